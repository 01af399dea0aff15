"""Which snapshots to mix (docs/peer-protocol.md, attempt 13): train the committed pairs model's settings once,
keeping the generator of every tenth epoch from 150, then score mixtures of chosen epochs, each calibrated by
pairs as one generator and decoded in torch, on the protocol's Shape, Trend and XGBoost detection.

    python -m experiments.snapshot_mixtures train --out /tmp/snaps            # about 6 minutes on 2 cores
    python -m experiments.snapshot_mixtures score --out /tmp/snaps 300 290,280,300 200,240,270,290,300
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np
import torch

from experiments.pair_calibration import decoded_scores
from explorer.data.tables import load_table
from training.calibrate import fit_calibration
from training.configs import config_for
from training.gan import TabularGAN
from training.nets import Mixture

SETTINGS = dict(balanced=True, epochs=300, lr_g=5e-4, lr_d=5e-4, lr_final=0.1)  # the committed command's
FIRST, EVERY = 150, 10


def train(out: Path, seed: int) -> None:
    gan = TabularGAN(config_for("adult", "cgan", seed, **SETTINGS))
    evaluate = gan._end_epoch

    def keep(table):  # the evaluation, then the generator it judged
        record = evaluate(table)
        if gan.epoch >= FIRST and gan.epoch % EVERY == 0:
            torch.save(copy.deepcopy(gan.generator.state_dict()), out / f"seed{seed}-epoch{gan.epoch}.pt")
        return record
    gan._end_epoch = keep
    gan.fit(load_table("adult"), checkpoint=out / f"seed{seed}.ckpt")


def score(out: Path, seed: int, sets: list[list[int]], sample_seeds=(0, 1)) -> None:
    table = load_table("adult")
    n = len(table.train)
    config = config_for("adult", "cgan", seed, **SETTINGS)
    shell = TabularGAN(config)
    shell._setup(table)
    tf, classes = shell.transformer_, shell.classes_
    shares = table.train[table.target].value_counts(normalize=True).reindex(classes).to_numpy()

    def member(epoch: int) -> torch.nn.Module:
        g = copy.deepcopy(shell.G)
        g.load_state_dict(torch.load(out / f"seed{seed}-epoch{epoch}.pt"))
        return g.eval()
    for epochs in sets:
        mix = Mixture([member(e) for e in epochs]).eval()
        calibration = fit_calibration(mix, tf, table, classes, config.latent_dim + 1, seed=0, by_parent=True)
        figures = []
        for s in sample_seeds:
            rng = np.random.default_rng(s)
            z = torch.from_numpy(rng.standard_normal((n, config.latent_dim + 1), dtype=np.float32))
            codes = rng.choice(len(classes), n, p=shares)
            figures.append(list(decoded_scores(mix, tf, calibration, table, classes, z, codes, s).values()))
        shape, trend, xgb = np.mean(figures, 0)
        print(f"epochs {','.join(map(str, epochs))}: Shape {shape:.4f}  Trend {trend:.4f}  XGBoost {xgb:.4f}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["train", "score"])
    p.add_argument("sets", nargs="*", help="score: comma-separated epochs per mixture, e.g. 200,250,300")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_intermixed_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.step == "train":
        train(args.out, args.seed)
    else:
        score(args.out, args.seed, [[int(e) for e in s.split(",")] for s in args.sets or ["300"]])


if __name__ == "__main__":
    main()
