"""What an exported confidence GAN can reach, and what the request -> input map alone would give it.

For each model: the judge's mean score of rows generated for raw inputs from -0.5 to 1.5 (past the requests'
range), then the map training/confidence_map.py would fit from that curve, applied in front of the exported
generator, measured like the card (19 requests x 200 rows, seed 0). A model already exported with the map
measures its own map's input range, not the requests'.

    python -m experiments.confidence_reach [--root exported] [--model credit-g-confgan ...]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from explorer.metrics.confidence import link_metrics
from explorer.runtime.frames import outputs_to_frame
from explorer.runtime.judge import RANGE
from explorer.runtime.models import DEFAULT_ROOT, Model
from training.confidence_map import fit_map


def achieved(model: Model, inputs: np.ndarray, seed: int) -> np.ndarray:
    """The judge's scores of rows generated for raw generator inputs (the request check bypassed)."""
    z = model.noise(len(inputs), seed)
    numeric, categorical = model.sessions["generator"].run(
        None, {"z": z, "confidence": np.asarray(inputs, np.float32).reshape(-1, 1)})
    return model.judge_confidence(outputs_to_frame(model.card.columns, numeric, categorical))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--model", nargs="+", default=["credit-g-confgan", "diabetes-confgan"])
    args = parser.parse_args()
    for model_id in args.model:
        model = Model.load(model_id, args.root)
        remap, curve = fit_map(lambda u: achieved(model, np.full(1000, u), 4321), RANGE)
        requested = np.repeat(np.round(np.linspace(*RANGE, 19), 4), 200)
        with torch.no_grad():
            inputs = remap(torch.tensor(requested, dtype=torch.float32)[:, None]).numpy()[:, 0]
        mapped = link_metrics(requested, achieved(model, inputs, 0))
        top = int(np.argmax(curve["mean_achieved"]))
        print(f"{model_id}: highest mean {curve['mean_achieved'][top]:.3f} at input {curve['inputs'][top]}; "
              f"with the map MAE {mapped['mean_absolute_error']:.3f}, mean at 0.95 "
              f"{mapped['per_level']['0.95']['mean']:.3f}, at 0.05 {mapped['per_level']['0.05']['mean']:.3f}")


if __name__ == "__main__":
    main()
