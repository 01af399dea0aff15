"""Attempts at the unconditional latent MNIST GAN: ``python -m experiments.latent_gan --set pac=4``.

Its bar: Fréchet distance ≤ 5× real data's own, and every digit's share (of samples the judge labels
as that digit) in [0.07, 0.13], with no labels used in training or sampling. One attempt trains the
latent GAN exactly as ``python -m training.run --dataset mnist --arch latent-gan --threads 1`` does with
the same ``--set`` and ``--epochs`` (the same code: ``run_digits.build_and_train``), then measures it as
the card does — 10,000 samples from numpy noise (seed 0), decoded, against the 10,000 test images on the
judge's features, beside 10,000 random training images (the reference) — but in torch, without the
export, the 50-label test and the slower metrics. Appends one row to ``--csv`` (docs/digits.md's table).
"""
from __future__ import annotations

import argparse
import resource
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from explorer.metrics import digits as dm
from explorer.paths import checkpoints_dir
from training.configs import DIGIT_NAMES, digit_config
from training.digit_nets import Judge
from training.run_digits import (
    autoencoder,
    build_and_train,
    judge,
    load,
    parse_settings,
)

ROOT = Path(__file__).resolve().parent.parent
ARCH = "latent-gan"
SHARE_BAR, FRECHET_BAR = (0.07, 0.13), 5.0


def judged(net: Judge, images: torch.Tensor, batch: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """(probs, features) of the judge in torch."""
    with torch.no_grad():
        parts = [net(images[i:i + batch]) for i in range(0, len(images), batch)]
    return torch.cat([p[0] for p in parts]).numpy(), torch.cat([p[1] for p in parts]).numpy()


def measure(net: Judge, generator: torch.nn.Module, decoder: torch.nn.Module, f_test: np.ndarray,
            f_reference: np.ndarray, noise_dim: int, n: int = 10_000, seed: int = 0) -> dict:
    """The card's Fréchet (and × reference), digit shares and confident share, for n samples."""
    z = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, noise_dim), dtype=np.float32))
    with torch.no_grad():
        images = torch.cat([decoder(generator.eval()(z[i:i + 2000])) for i in range(0, n, 2000)]).clamp(0, 1)
    probs, features = judged(net, images)
    frechet, reference = dm.frechet(f_test, features), dm.frechet(f_test, f_reference)
    shares = dm.digit_distribution(probs)
    return {"frechet": frechet, "reference": reference, "frechet_vs_reference": frechet / reference,
            "min_share": min(shares.values()), "max_share": max(shares.values()),
            "confident_share": dm.confident_share(probs), **{f"share_{d}": v for d, v in shares.items()}}


def meets_bar(row: dict) -> bool:
    return (row["frechet_vs_reference"] <= FRECHET_BAR and SHARE_BAR[0] <= row["min_share"]
            and row["max_share"] <= SHARE_BAR[1])


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m experiments.latent_gan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a latent-gan setting, as training.run's --set (e.g. pac=4, loss=wgan-gp)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--name", help="the attempt's name in the table (default: its settings)")
    parser.add_argument("--seed", type=int, default=0, help="the training seed (the card's models: 0)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--checkpoints", type=Path, default=checkpoints_dir(),
                        help="where the judge and autoencoder are cached (default: %(default)s)")
    parser.add_argument("--csv", type=Path, default=ROOT / "results" / "latent_gan.csv")
    parser.add_argument("--quick", action="store_true", help="tiny budget for smoke tests")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    field = {v: k for k, v in DIGIT_NAMES.items()}
    changed = {field.get(k, k): v for k, v in parse_settings([ARCH], args.set).items()}
    settings = digit_config(ARCH, args.seed, args.quick, args.epochs, **changed)
    data = load()
    classifier, _ = judge(data, args.checkpoints, args.quick)
    ae = autoencoder(data, args.checkpoints, args.quick, settings.decoder_width, measure=False)
    net = Judge(classifier).eval()
    _, f_test = judged(net, data["xt"])
    pick = np.random.default_rng(0).choice(len(data["x"]), len(data["xt"]), replace=False)  # as the card's reference
    _, f_reference = judged(net, data["x"][pick])
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    modules, gan = build_and_train(ARCH, data, settings, ae, args.quick)
    after = resource.getrusage(resource.RUSAGE_SELF)
    generator, decoder = modules["generator"][0], modules["decoder"][0]
    named = args.set + ([f"epochs={args.epochs}"] if args.epochs else []) + ([f"seed={args.seed}"] if args.seed else [])
    row = {"attempt": args.name or (" ".join(named) or "defaults"),
           **measure(net, generator, decoder, f_test, f_reference, settings.latent_dim,
                     n=2000 if args.quick else 10_000),
           "train_seconds": round(gan.seconds, 1),
           "train_cpu_seconds": round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 1),
           "command": "python -m experiments.latent_gan " + shlex.join(argv)}
    row["meets_bar"] = meets_bar(row)
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([row]).to_csv(args.csv, mode="a", header=not args.csv.exists(), index=False)
    print(f"{row['attempt']}: Fréchet {row['frechet']:.2f} = {row['frechet_vs_reference']:.2f}× reference "
          f"({row['reference']:.2f}); digit shares {row['min_share']:.3f}-{row['max_share']:.3f}; confident "
          f"{row['confident_share']:.3f}; {row['train_seconds']:.0f} s ({row['train_cpu_seconds']:.0f} s CPU); "
          f"bar {'met' if row['meets_bar'] else 'not met'}")
    return row


if __name__ == "__main__":
    main()
