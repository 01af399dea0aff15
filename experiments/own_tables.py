"""Quality on tables the product was not built for, judged as the app judges (docs/own-tables.md).

Each table ships inside a package on the package index (scikit-learn's bundled tables, the Palmer
penguins' raw file with its dates, ids, comments and gaps) or is built here (a shop table with missing
values, dates, an id, free text, a constant and a numeric target). Each is written to a file, trained
through the real CLI (``python -m training.run --data FILE --target COL --arch cgan``), and scored from
its card: RF detection AUC, efficacy, mean KS/TV complement against real data's own (the training rows
against the same holdout), and the largest gap between a column's missing share in 20,000 synthetic rows
and in the training rows (the bar), beside the card's gap to the holdout and the holdout's own sampling
gap to the training rows.

  python -m experiments.own_tables                 # every table, default settings (one at a time)
  python -m experiments.own_tables --tables wine   # one table
  python -m experiments.own_tables --tables credit-g,diabetes,adult   # built-in raw files, same path
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RANGE_SAMPLE = 5_000  # rows asked of each range to see how many land in it
MISSING_SAMPLE = 20_000  # synthetic rows whose missing shares are compared with the training rows'
BARS = {"detection_rf_auc": 0.80, "efficacy_ratio": 0.90, "fidelity_gap": 0.02, "missing_gap": 0.03}


def _sklearn(loader: str, target_names: bool = True) -> pd.DataFrame:
    import sklearn.datasets as ds
    bunch = getattr(ds, loader)(as_frame=True, **({} if target_names else {"scaled": False}))
    frame = bunch.frame
    if target_names:
        frame["target"] = np.asarray(bunch.target_names)[frame["target"]]
    return frame


def _penguins() -> pd.DataFrame:
    import palmerpenguins
    return pd.read_csv(Path(palmerpenguins.__file__).parent / "data" / "penguins-raw.csv")


def _shop(n: int = 3000) -> pd.DataFrame:
    from tests.test_own_table import shop_table
    return shop_table(n, seed=7)


def _built_in(filename: str) -> Path:
    from explorer.data.tables import data_dir
    return data_dir() / filename


# name: (make the frame, or the path of a raw file to copy; file suffix; target)
TABLES = {
    "breast-cancer": (lambda: _sklearn("load_breast_cancer"), ".csv", "target"),
    "wine": (lambda: _sklearn("load_wine"), ".parquet", "target"),
    "iris": (lambda: _sklearn("load_iris"), ".tsv", "target"),
    "diabetes-progression": (lambda: _sklearn("load_diabetes", target_names=False), ".csv", "target"),
    "penguins-raw": (_penguins, ".csv", "Species"),
    "shop": (_shop, ".csv", "price"),
}
# the built-in tables' raw files through the same path (compare with docs/results.md)
BUILT_IN = {"credit-g": (lambda: _built_in("credit-g.arff"), ".arff", "class"),
            "diabetes": (lambda: _built_in("diabetes.arff"), ".arff", "class"),
            "adult": (lambda: _built_in("adult.data"), ".data", "income")}
SCHEMAS = {"adult": ROOT / "training" / "schemas" / "adult.toml"}  # adult.data has no header row


def write(name: str, folder: Path) -> Path:
    make, suffix, _ = {**TABLES, **BUILT_IN}[name]
    frame = make()
    path = folder / f"{name}{suffix}"
    if isinstance(frame, Path):
        shutil.copyfile(frame, path)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    return path


def score(card: dict, data: Path, models: Path) -> dict:
    """The bar's figures from a card, plus real data's own KS/TV on the same holdout and the missing shares
    of a large sample against the training rows'."""
    import os
    from explorer.data.user_tables import load_for_card
    from explorer.metrics.diagnostics import fidelity, missing_shares
    from explorer.runtime.models import Model
    before = os.environ.get("GAN_EXPLORER_DATA")
    os.environ["GAN_EXPLORER_DATA"] = str(data)  # where load_for_card finds the file, as the app would
    try:
        table = load_for_card(card)
    finally:
        if before is None:
            del os.environ["GAN_EXPLORER_DATA"]
        else:
            os.environ["GAN_EXPLORER_DATA"] = before
    real_own = float(fidelity(table.holdout, table.train, table.numeric)["complement"].mean())
    m = card["metrics"]
    holdout_gaps = [abs(v["real"] - v["synthetic"]) for v in m.get("missing_share", {}).values()]
    model = Model.load(card["id"], models)
    large = model.sample(MISSING_SAMPLE, seed=0)
    learned = missing_shares(table.train, large)
    noise = missing_shares(table.train, table.holdout)  # real data's own gap: training rows against the holdout
    row = {"table": card["dataset"], "model": card["id"], "rows": card["source"]["rows"],
           "learned columns": len(card["columns"]), "refused": len(card["refused"]),
           "condition": (card["condition"] or {}).get("type", "none"),
           "detection_rf_auc": m["detection_rf_auc"], "efficacy_ratio": m.get("efficacy_ratio", np.nan),
           "ks_tv": m["mean_ks_tv_complement"], "ks_tv_real": real_own,
           "missing_gap": _largest(learned), "missing_gap_holdout": max(holdout_gaps) if holdout_gaps else 0.0,
           "missing_gap_real": _largest(noise), **_range_hits(model, large),
           "seconds": card["training"]["seconds"]}
    row["meets bar"] = bool(row["detection_rf_auc"] <= BARS["detection_rf_auc"]
                            and not row["efficacy_ratio"] < BARS["efficacy_ratio"]
                            and row["ks_tv"] >= real_own - BARS["fidelity_gap"]
                            and row["missing_gap"] <= BARS["missing_gap"])
    return row


def _range_hits(model, unconditional: pd.DataFrame) -> dict:
    """For a range-conditioned model: the mean share of rows asked for one range that land in it, and the
    share an unconditional draw puts there (1 / ranges when the ranges are quantile bins)."""
    c = model.condition
    if c is None or c.type != "range":
        return {"range_hit": np.nan, "range_hit_chance": np.nan}
    hits, chance = [], []
    for k, low, high in zip(model.classes, c.edges[:-1], c.edges[1:]):
        asked = model.sample(RANGE_SAMPLE, seed=1, mix=k)[c.column]
        hits.append(asked.between(low, high).mean())
        chance.append(unconditional[c.column].between(low, high).mean())
    return {"range_hit": float(np.mean(hits)), "range_hit_chance": float(np.mean(chance))}


def _largest(shares: pd.DataFrame) -> float:
    return float((shares["real"] - shares["synthetic"]).abs().max()) if len(shares) else 0.0


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--work", type=Path, help="folder for the files and models (default: a temporary one)")
    parser.add_argument("--csv", type=Path, default=ROOT / "results" / "own_tables.csv")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="passed on to training.run")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="own-tables-"))
    (work / "data").mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.tables.split(","):
        path = write(name, work / "data")
        target = {**TABLES, **BUILT_IN}[name][2]
        command = [sys.executable, "-m", "training.run", "--data", str(path), "--target", target, "--arch", "cgan",
                   "--out", str(work / "models"), "--checkpoints", str(work / "checkpoints"), *args.extra]
        if name in SCHEMAS:
            command += ["--schema", str(SCHEMAS[name])]
        print("$", " ".join(command[1:]), flush=True)
        subprocess.run(command, check=True, cwd=ROOT)
        card = json.loads((work / "models" / f"{name}-cgan" / "card.json").read_text())
        rows.append(score(card, work / "data", work / "models"))
        print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        previous = pd.read_csv(args.csv) if args.csv.exists() else pd.DataFrame()
        keep = previous[~previous["table"].isin(table["table"])] if len(previous) else previous
        pd.concat([keep, table]).round(4).to_csv(args.csv, index=False)
    print(table.round(3).to_markdown(index=False))
    return table


if __name__ == "__main__":
    main()
