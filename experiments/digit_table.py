"""The README's MNIST tables, read from the committed cards (export measured every number from the
ONNX graphs with the judge classifier's features) and from results/freezed.csv.

    python -m experiments.digit_table
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from explorer.runtime.models import discover

ROOT = Path(__file__).resolve().parent.parent

BARS = {"mnist-pixel-cgan": "acc ≥ 0.98, every digit ≥ 0.95, P ≥ 0.9×, R ≥ 0.8×, FD ≤ 3×",
        "mnist-latent-cgan": "acc ≥ 0.95, every digit ≥ 0.90, P ≥ 0.8×, R ≥ 0.6×, FD ≤ 5×",
        "mnist-latent-gan": "FD ≤ 5×, every digit's share in [0.07, 0.13]"}


def models_table(cards: dict) -> pd.DataFrame:
    rows, reference = [], None
    for mid, card in sorted(cards.items()):
        if card.kind != "image":
            continue
        m = card.metrics
        reference = m["reference_real_train_vs_test"]
        rows.append({"model": mid, "cond. acc": m.get("conditional_accuracy", ""),
                     "worst digit": m.get("worst_digit_accuracy", ""),
                     "Fréchet": m["frechet"], "FD × ref": m["frechet_vs_reference"],
                     "precision": m["precision"], "P × ref": m["precision_vs_reference"],
                     "recall": m["recall"], "R × ref": m["recall_vs_reference"],
                     "detection AUC": m["detection_auc"], "confident": m["confident_share"],
                     "train s": card.training.seconds, "bar": BARS.get(mid, "baseline")})
    if reference:
        rows.insert(0, {"model": "real train digits (reference)", "Fréchet": reference["frechet"],
                        "precision": reference["precision"], "recall": reference["recall"],
                        "detection AUC": reference["detection_auc"]})
    return pd.DataFrame(rows).round(3).astype(object).fillna("")


def interpolation_table(cards: dict) -> pd.DataFrame:
    rows = []
    for mid, card in sorted(cards.items()):
        if card.kind == "image":
            i = card.metrics["interpolation"]
            rows.append({"model": mid, **{k: v for k, v in i.items() if k not in ("pairs", "steps")}})
    return pd.DataFrame(rows).round(3).astype(object).fillna("")


def attempts_table(t: pd.DataFrame, card=None) -> pd.DataFrame:
    """One row per attempt of experiments.latent_gan, then the committed model's card (``card``): the bar's
    figures and the command that reproduces each."""
    if card is not None:
        m, shares = card.metrics, card.metrics["digit_distribution"].values()
        t = pd.concat([t, pd.DataFrame([{
            "attempt": "committed mnist-latent-gan (its card)", "frechet": m["frechet"],
            "frechet_vs_reference": m["frechet_vs_reference"], "min_share": min(shares), "max_share": max(shares),
            "confident_share": m["confident_share"], "train_seconds": card.training.seconds,
            "meets_bar": m["frechet_vs_reference"] <= 5 and 0.07 <= min(shares) and max(shares) <= 0.13,
            "command": card.training.command}])], ignore_index=True)
    return pd.DataFrame({"attempt": t["attempt"], "Fréchet": t["frechet"].round(2),
                         "× ref": t["frechet_vs_reference"].round(2), "min share": t["min_share"].round(3),
                         "max share": t["max_share"].round(3), "confident": t["confident_share"].round(3),
                         "train s": t["train_seconds"].round(0).astype(int), "bar": t["meets_bar"].map({True: "met", False: ""}),
                         "command": "`" + t["command"] + "`"})


def judge_tables(cards: dict) -> tuple[dict, pd.DataFrame, dict]:
    card = next(c for c in cards.values() if c.kind == "image")
    ae = next((c.autoencoder for c in cards.values() if c.autoencoder), {})
    return card.judge, pd.DataFrame(card.judge["fgsm"]).round(4), ae


def main() -> None:
    cards, failed = discover()
    print(models_table(cards).to_markdown(index=False))
    print()
    print(interpolation_table(cards).to_markdown(index=False))
    judge, fgsm, ae = judge_tables(cards)
    print(f"\njudge test accuracy {judge['test_accuracy']:.4f} ({judge['seconds']} s to train)\n")
    print(fgsm.to_markdown(index=False))
    if ae:
        print(f"\nautoencoder: test BCE {ae['test_reconstruction_bce']:.4f}; 50 labels: 1-NN "
              f"{ae['fifty_label_1nn_accuracy']:.4f}, label spreading {ae['fifty_label_spreading_accuracy']:.4f}")
    freezed = ROOT / "results" / "freezed.csv"
    if freezed.is_file():
        t = pd.read_csv(freezed)
        cols = ["frechet", "precision", "recall", "detection_auc", "share_judged_8_or_9"]
        summary = t.groupby("method", sort=False)[cols].agg(["mean", "std"]).round(3)
        summary.columns = [f"{a} {b}" for a, b in summary.columns]
        print(f"\nFreezeD ({t['seed'].nunique()} seeds; `{t['command'].iloc[0]}`)\n")
        print(summary.reset_index().to_markdown(index=False))
    attempts = ROOT / "results" / "latent_gan.csv"
    if attempts.is_file():
        print("\nThe unconditional latent GAN's attempts (results/latent_gan.csv)\n")
        print(attempts_table(pd.read_csv(attempts), cards.get("mnist-latent-gan")).to_markdown(index=False))
    for mid, reason in failed.items():
        print(f"\nnot verified: {mid}: {reason}")


if __name__ == "__main__":
    main()
