"""After training, a monotone map from the requested confidence to the generator's own confidence input.

A confidence GAN's achieved judge confidence follows its input but not exactly (it overshoots mid-range and
falls short at the top). Measuring the mean achieved confidence over a grid of inputs — wider than the
requests' range, since an input past 1 may still reach higher — and inverting that monotone curve gives the
input that delivers each request on average. The map is a piecewise-linear layer in front of the generator,
so the exported graph keeps its inputs, outputs and speed; rows are what the generator made for that input.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from sklearn.isotonic import IsotonicRegression
from torch import nn

INPUTS = (-0.5, 1.5)  # the generator inputs searched: past [0, 1], where training put its conditions
GRID = 41  # inputs measured
REQUESTS = 91  # knots of the map over the requests' range (every 0.01 on [0.05, 0.95])


class PiecewiseLinear(nn.Module):
    """y = interp(x, xs, ys), flat outside [xs[0], xs[-1]], from elementwise ops every ONNX runtime has
    (torch.searchsorted-based interpolation does not export to opset 18 as one graph)."""

    def __init__(self, xs, ys):
        super().__init__()
        xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
        if xs.ndim != 1 or xs.shape != ys.shape or len(xs) < 2 or not (np.diff(xs) > 0).all():
            raise ValueError("a piecewise-linear map needs at least 2 knots with strictly increasing x")
        self.register_buffer("left", torch.tensor(xs[:-1], dtype=torch.float32))
        self.register_buffer("width", torch.tensor(np.diff(xs), dtype=torch.float32))
        self.register_buffer("slope", torch.tensor(np.diff(ys) / np.diff(xs), dtype=torch.float32))
        self.register_buffer("start", torch.tensor(ys[:1], dtype=torch.float32))
        self.xs, self.ys = xs, ys

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        covered = torch.minimum(torch.relu(x - self.left), self.width)  # [n, knots - 1]
        return self.start + (covered * self.slope).sum(-1, keepdim=True)


class Mapped(nn.Module):
    """The generator with its condition passed through ``remap`` first."""

    def __init__(self, generator: nn.Module, remap: PiecewiseLinear):
        super().__init__()
        self.net, self.remap = generator, remap

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.net(z, self.remap(cond))


def fit_map(achieved: Callable[[float], np.ndarray], requests: tuple[float, float]) -> tuple[PiecewiseLinear, dict]:
    """The map whose output makes the mean of ``achieved(input)`` (the judge's scores of rows generated for
    one input) equal each request, over ``requests``' range; requests past what any input reaches get the
    input that reaches closest. Returns the map and the measured curve (for the card and docs)."""
    inputs = np.linspace(*INPUTS, GRID)
    means = np.array([float(np.mean(achieved(float(u)))) for u in inputs])
    # the curve rises and then falls past the inputs training saw: keep the rising part up to its top
    top = int(np.argmax(means))
    kept_inputs, curve = inputs[:top + 1], IsotonicRegression().fit_transform(inputs[:top + 1], means[:top + 1])
    wanted = np.linspace(*requests, REQUESTS)
    # strictly increasing knots of the inverse: one input per distinct curve value (its first, on plateaus)
    values, first = np.unique(curve, return_index=True)
    mapped = np.interp(wanted, values, kept_inputs[first]) if len(values) > 1 else np.full(REQUESTS, kept_inputs[0])
    return PiecewiseLinear(wanted, mapped), {"inputs": inputs.round(4).tolist(), "mean_achieved": means.round(4).tolist()}
