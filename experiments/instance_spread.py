"""Are "rows like this one" as varied as the row's real neighbours? For random holdout rows (never
seen in training) of an IC-GAN's dataset: mean distance to the instance of generated rows vs of the
instance's k nearest training rows — in all columns, in the numerics alone — and the share of rows
with every category equal to the instance's. Medians hide this: most neighbours differ from the
instance in 0 or 1 category (distance ≈ 0.2 or ≥ √2), so the median jumps between the two modes.

    python -m experiments.instance_spread [--model adult-icgan] [--instances 100]
"""
from __future__ import annotations

import argparse

import numpy as np

from explorer.data.tables import load_table
from explorer.runtime.instance_space import embed
from explorer.metrics.instances import neighbours
from explorer.runtime.models import Model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="adult-icgan")
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--rows", type=int, default=100, help="generated rows per instance")
    args = parser.parse_args()
    model = Model.load(args.model)
    space, k = model.condition.space, model.condition.k
    table = load_table(model.card.dataset)
    n_num = len(space.numeric)
    train = embed(space, table.train)
    picks = np.random.default_rng(0).choice(len(table.holdout), args.instances, replace=False)
    stats = {"generated": [], f"{k} nearest training rows": []}
    for j, i in enumerate(picks):
        instance = table.holdout.iloc[[i]]
        e = embed(space, instance)[0]
        groups = {"generated": embed(space, model.sample(args.rows, seed=j, instance=instance)),
                  f"{k} nearest training rows": train[neighbours(train, k, e[None])[0]]}
        for name, rows in groups.items():
            diff = rows - e
            stats[name].append((np.linalg.norm(diff, axis=1).mean(), np.linalg.norm(diff[:, :n_num], axis=1).mean(),
                                (np.abs(diff[:, n_num:]).sum(1) == 0).mean()))
    print(f"{args.model}: {args.instances} holdout rows as instances, {args.rows} generated rows each")
    print(f"{'rows':<26}{'mean distance':>15}{'numerics only':>15}{'same categories':>17}")
    for name, values in stats.items():
        d, dn, same = np.mean(values, 0)
        print(f"{name:<26}{d:>15.3f}{dn:>15.3f}{same:>17.1%}")
    g, r = (np.mean(v, 0) for v in stats.values())
    print(f"ratio generated / real neighbours: distance {g[0] / r[0]:.2f}, numerics {g[1] / r[1]:.2f}")


if __name__ == "__main__":
    main()
