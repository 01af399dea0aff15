"""FreezeD (Mo et al. 2020, R5) against plain fine-tuning: ``python -m experiments.freezed``.

A convolutional digit GAN is pretrained on the digits 0–7 only. It is then fine-tuned on a small
target set — 100 training images of the withheld digits 8 and 9 — twice with the same budget:
plainly (every discriminator layer trains) and with FreezeD (the discriminator's lower
convolutions stay frozen). Both are judged on the real test 8s and 9s with the judge classifier's
features, beside the same metrics for real training 8s and 9s (the reference), over several seeds.
Writes ``results/freezed.csv`` (one row per method and seed) and prints the mean table.
"""
from __future__ import annotations

import argparse
import copy
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from explorer.metrics import digits as dm
from explorer.paths import checkpoints_dir
from training import digits
from training.configs import Settings
from training.digit_nets import Judge, PixelDiscriminator, PixelGenerator
from training.run_digits import judge, load

ROOT = Path(__file__).resolve().parent.parent
TARGET = (8, 9)


def features(net: Judge, images: torch.Tensor, batch: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        parts = [net(images[i:i + batch]) for i in range(0, len(images), batch)]
    return torch.cat([p[0] for p in parts]).numpy(), torch.cat([p[1] for p in parts]).numpy()


def score(net: Judge, G: torch.nn.Module, f_test: np.ndarray, noise_dim: int, n: int, seed: int) -> dict:
    with torch.no_grad():
        images = G(torch.randn(n, noise_dim, generator=torch.Generator().manual_seed(seed + 100)))
    probs, f_fake = features(net, images)
    return {**dm.compare(f_test, f_fake, seed=seed), "share_judged_8_or_9": float(np.isin(probs.argmax(1), TARGET).mean())}


def main(argv: list[str] | None = None) -> pd.DataFrame:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m experiments.freezed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pretrain-epochs", type=int, default=4)
    parser.add_argument("--target-images", type=int, default=100)
    parser.add_argument("--steps", type=int, default=600, help="fine-tuning budget (generator steps)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoints", type=Path, default=checkpoints_dir(),
                        help="checkpoint folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "freezed.csv")
    parser.add_argument("--quick", action="store_true", help="tiny budget for smoke tests")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load()
    classifier, _ = judge(data, args.checkpoints, args.quick)
    net = Judge(classifier).eval()
    y, yt = data["y"].numpy(), data["yt"].numpy()
    source = data["x"][~np.isin(y, TARGET)]
    target_pool = np.flatnonzero(np.isin(y, TARGET))
    test = data["xt"][np.isin(yt, TARGET)]
    _, f_test = features(net, test)
    noise_dim, batch = 64, 25
    if args.quick:
        source, args.pretrain_epochs, args.steps = source[:3200], 1, 20
    start = time.perf_counter()
    G, D = PixelGenerator(noise_dim, 0), PixelDiscriminator(0)
    G = digits.DigitGAN(Settings(latent_dim=noise_dim, epochs=args.pretrain_epochs, batch_size=64, loss="hinge",
                                 ema=0.999), G, D).fit(source).generator
    pretrain_seconds = time.perf_counter() - start
    rows = []
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        chosen = rng.choice(target_pool, args.target_images, replace=False)
        reference_pool = np.setdiff1d(target_pool, chosen)
        _, f_ref = features(net, data["x"][rng.choice(reference_pool, len(test), replace=False)])
        rows.append({"method": "real train 8/9 (reference)", "seed": seed, **dm.compare(f_test, f_ref, seed=seed),
                     "share_judged_8_or_9": 1.0, "seconds": 0.0})
        rows.append({"method": "pretrained on 0-7, no fine-tuning", "seed": seed,
                     **score(net, G, f_test, noise_dim, len(test), seed), "seconds": 0.0})
        epochs = max(1, args.steps * batch // args.target_images)
        for method, frozen in (("plain fine-tuning", []), ("FreezeD (D lower layers frozen)", ["lower"])):
            s = Settings(latent_dim=noise_dim, epochs=epochs, seed=seed, batch_size=batch, loss="hinge", ema=0.99,
                         frozen=frozen)
            gan = digits.DigitGAN(s, copy.deepcopy(G).train(), copy.deepcopy(D)).fit(data["x"][chosen])
            tuned, seconds = gan.generator, gan.seconds
            rows.append({"method": method, "seed": seed, **score(net, tuned, f_test, noise_dim, len(test), seed),
                         "seconds": seconds})
    table = pd.DataFrame(rows)
    table["command"] = "python -m experiments.freezed " + shlex.join(argv)
    table["pretrain_seconds"] = round(pretrain_seconds, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    summary = table.groupby("method", sort=False)[["frechet", "precision", "recall", "detection_auc",
                                                   "share_judged_8_or_9"]].agg(["mean", "std"])
    print(summary.round(3).to_string())
    return table


if __name__ == "__main__":
    main()
