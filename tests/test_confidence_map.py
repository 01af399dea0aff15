"""The request -> generator-input map of confidence GANs (training/confidence_map.py) and the link requests."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from explorer.runtime.judge import RANGE
from training.confidence import ConfidenceGAN
from training.confidence_map import INPUTS, Mapped, PiecewiseLinear, fit_map
from training.configs import config_for
from training.export import onnx_export


def test_piecewise_linear_matches_numpy_interp_through_onnx(tmp_path):
    xs, ys = np.array([0.05, 0.3, 0.6, 0.95]), np.array([-0.2, 0.4, 0.5, 1.3])
    layer = PiecewiseLinear(xs, ys)
    x = np.linspace(-0.5, 1.5, 201, dtype=np.float32)[:, None]  # inside the knots and flat outside them
    onnx_export(layer, (torch.from_numpy(x),), ["x"], ["y"], tmp_path / "map.onnx")
    got = ort.InferenceSession(str(tmp_path / "map.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(got[:, 0], np.interp(x[:, 0], xs, ys), atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(layer(torch.from_numpy(x)).numpy(), got, atol=1e-6)


@pytest.mark.parametrize("xs", [[0.5], [0.1, 0.1, 0.2], [0.3, 0.2]])
def test_piecewise_linear_needs_increasing_knots(xs):
    with pytest.raises(ValueError, match="strictly increasing"):
        PiecewiseLinear(xs, np.zeros(len(xs)))


def test_fitted_map_inverts_a_curve_that_rises_then_falls():
    """A generator whose mean confidence rises with its input up to 0.9 at input 1.2 and falls after: each
    request gets the input that delivers it; requests above the top get the top's input."""
    def curve(u):
        return np.where(u < 1.2, 0.1 + (u + 0.5) * 0.8 / 1.7, 0.9 - (u - 1.2))

    remap, measured = fit_map(lambda u: np.full(50, curve(u)), RANGE)
    assert measured["inputs"][0] == INPUTS[0] and len(measured["mean_achieved"]) == len(measured["inputs"])
    requests = torch.linspace(0.12, 0.88, 20)[:, None]
    with torch.no_grad():
        inputs = remap(requests).numpy()[:, 0]
    np.testing.assert_allclose(curve(inputs), requests.numpy()[:, 0], atol=0.01)
    with torch.no_grad():
        top = remap(torch.tensor([[0.95]])).item()
    assert curve(top) == pytest.approx(0.9, abs=0.02)


def test_mapped_generator_exports_with_the_map_in_the_graph(tmp_path):
    class Net(torch.nn.Module):  # stands for a generator: output = its condition input, beside z
        def forward(self, z, cond):
            return z.sum(1, keepdim=True) * 0 + cond

    remap = PiecewiseLinear([0.05, 0.95], [0.2, 1.4])
    z, c = torch.zeros(8, 3), torch.linspace(0.05, 0.95, 8)[:, None]
    onnx_export(Mapped(Net(), remap), (z, c), ["z", "confidence"], ["out"], tmp_path / "g.onnx")
    got = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"z": z.numpy(), "confidence": c.numpy()})[0]
    np.testing.assert_allclose(got[:, 0], np.interp(c.numpy()[:, 0], [0.05, 0.95], [0.2, 1.4]), atol=1e-5)


def test_link_requests_uniform_or_weighted_to_the_ends():
    torch.manual_seed(0)
    uniform = ConfidenceGAN(config_for("diabetes", "confgan"))._requests(20_000).numpy()
    ends = ConfidenceGAN(config_for("diabetes", "confgan", confidence_requests=0.5))._requests(20_000).numpy()
    for r in (uniform, ends):
        assert r.shape == (20_000, 1) and r.min() >= RANGE[0] and r.max() <= RANGE[1]
    top = RANGE[1] - 0.1
    assert (ends > top).mean() > 1.5 * (uniform > top).mean()


def test_link_requests_shape_must_be_positive():
    with pytest.raises(ValueError, match="confidence_requests"):
        config_for("diabetes", "confgan", confidence_requests=0)
