"""Which half of the calibration by pairs (training/calibrate.py ``by_parent``) does what, on one generator.

The exported, uncalibrated generator is rebuilt in torch (training/twin.py) and calibrated four ways: per
class only, with the numeric tables split by parent only, with the category tree only, and with both (what
``--by-parent`` exports). Each decodes the same latents and labels in torch (the graph decodes the same rows:
tests/test_calibrate_parent.py) into as many rows as the training table, scored against the training rows with
the protocol's Shape, Trend and XGBoost detection (explorer/metrics/protocol.py).

    python -m experiments.pair_calibration --model adult-cgan-balanced
    python -m experiments.pair_calibration --model adult-cgan-lrdecay-raw --root /tmp/ax/out
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from explorer.data.tables import load_table
from explorer.metrics import protocol
from explorer.runtime.frames import outputs_to_frame
from explorer.runtime.models import DEFAULT_ROOT, Model
from training.calibrate import fit_calibration
from training.twin import Twin, is_calibrated, network_from_onnx, transformer_for


def variants(model: Model, table) -> tuple:
    """The rebuilt network, its transformer and the four calibrations by name."""
    path = model.folder / model.card.files["generator"].path
    if is_calibrated(path):
        raise ValueError(f"{model.id} is already calibrated: give its uncalibrated source")
    tf, network = transformer_for(model.card, table), network_from_onnx(path)
    seed = model.card.training.seed
    both = fit_calibration(network, tf, table, model.classes, model.latent_dim, seed=seed, by_parent=True)
    per_class = fit_calibration(network, tf, table, model.classes, model.latent_dim, seed=seed)
    return network, tf, {
        "per class": per_class,
        "numeric tables by parent only": dataclasses.replace(both, category_bias={}, category_parents=None),
        "category tree only": dataclasses.replace(both, by_parent={}, parents=[-1] * len(both.parents)),
        "both (pairs)": both,
    }


def scores(model: Model, table, seed: int = 0) -> dict[str, dict[str, float]]:
    network, tf, calibrations = variants(model, table)
    n = len(table.train)
    z = torch.from_numpy(model.noise(n, seed))
    codes = model.label_codes(n, seed) if model.classes else None
    return {name: decoded_scores(network, tf, calibration, table, model.classes, z, codes, seed)
            for name, calibration in calibrations.items()}


@torch.no_grad()
def decoded_scores(network, tf, calibration, table, classes: list[str], z: torch.Tensor, codes: np.ndarray | None,
                   seed: int) -> dict[str, float]:
    """The network's rows for noise ``z`` and class indices ``codes``, decoded in torch with ``calibration``,
    on the protocol's Shape, Trend and XGBoost detection against the training rows."""
    label = torch.from_numpy(np.eye(len(classes), dtype=np.float32)[codes]) if classes else None
    numeric, categorical = Twin(network, tf.decoder(calibration))(z, label)
    rows = outputs_to_frame(tf.columns, numeric.numpy(), categorical.numpy())
    if classes:
        rows[table.target] = np.asarray(classes)[codes]
    train = table.train
    rows = rows[list(train.columns)]
    return {"shape": protocol.shape(train, rows, table.numeric), "trend": protocol.trend(train, rows, table.numeric),
            "xgboost": protocol.c2st_xgb(train, rows, table.numeric, seed=seed)}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="adult-cgan-balanced", help="an exported, uncalibrated tabular gan or cgan")
    p.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    args = p.parse_args(argv)
    model = Model.load(args.model, args.root)
    result = scores(model, load_table(model.card.dataset))
    print("| calibration | Shape | Trend | XGBoost |\n|---|---|---|---|")
    for name, s in result.items():
        print(f"| {name} | {s['shape']:.3f} | {s['trend']:.3f} | {s['xgboost']:.3f} |")
    return result


if __name__ == "__main__":
    main()
