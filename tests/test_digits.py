"""MNIST models: export round trips, the committed models and the judge, metrics, bad inputs."""
from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from explorer.metrics import digits as dm
from explorer.data.tables import load_mnist
from explorer.runtime.images import decode_latents, encode_images, generate_images, sample_images
from explorer.runtime.interpolate import path
from explorer.runtime.models import DEFAULT_ROOT, Model
from training import digit_nets as nets
from training import run_digits

IMAGE_MODELS = sorted(p.parent.name for p in DEFAULT_ROOT.glob("mnist-*/card.json"))
CONDITIONAL = [m for m in IMAGE_MODELS if json.loads((DEFAULT_ROOT / m / "card.json").read_text())["condition"]]
needs_models = pytest.mark.skipif(not IMAGE_MODELS, reason="no MNIST model committed in exported/")


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Shared by the quick runs, so the quick judge classifier is trained once."""
    return tmp_path_factory.mktemp("digit-checkpoints")


def test_mnist_loader_reads_the_real_file(mnist):
    assert mnist["x_train"].shape == (60000, 28, 28) and mnist["x_test"].shape == (10000, 28, 28)
    assert mnist["x_train"].dtype == np.uint8 and set(np.unique(mnist["y_test"])) == set(range(10))


GRAPHS = {  # name → (module, outputs, kind passed to run_digits._inputs, conditional)
    "pixel generator": (lambda: nets.PixelGenerator(64, 10), ["image"], "generator", True),
    "pixel generator, width 16": (lambda: nets.PixelGenerator(64, 10, width=16), ["image"], "generator", True),
    "latent generator": (lambda: run_digits.StandardisedGenerator(nets.LatentGenerator(32, 32, 10),
                                                                 torch.randn(32), torch.rand(32) + 0.5),
                         ["latent"], "generator", True),
    "coded latent generator": (lambda: run_digits.StandardisedGenerator(
        nets.CodedGenerator(nets.LatentGenerator(32, 32, 10), 10), torch.randn(32), torch.rand(32) + 0.5),
        ["latent"], "generator", False),
    "pac latent discriminator": (lambda: run_digits.LatentJudge(nets.Encoder(32), nets.LatentDiscriminator(32, pac=4),
                                                                torch.randn(32), torch.rand(32) + 0.5),
                                 ["logit"], "discriminator", False),
    "mlp generator": (lambda: run_digits.TanhToUnit(nets.MLPGenerator(32)), ["image"], "generator", False),
    "decoder": (lambda: run_digits.LatentToImage(nets.ImageDecoder(32)), ["image"], "decoder", False),
    "encoder": (lambda: nets.Encoder(32), ["latent"], "encoder", False),
    "pixel discriminator": (lambda: nets.PixelDiscriminator(10), ["logit"], "discriminator", True),
    "judge": (lambda: nets.Judge(nets.Classifier()), ["probs", "features"], "classifier", False),
}


# one graph in the fast lane; every kind of digit graph in the full suite (about 3 s each)
@pytest.mark.parametrize("name", [n if n == "pixel generator" else pytest.param(n, marks=pytest.mark.slow)
                                  for n in GRAPHS])
def test_every_digit_graph_exports_and_onnxruntime_equals_torch(name, tmp_path):
    build, outputs, kind, conditional = GRAPHS[name]
    torch.manual_seed(0)
    module = build().eval()
    args, names = run_digits._inputs(kind, module, 64 if name.startswith("pixel generator") else 32, conditional)
    run_digits._export_checked(module, args, names, outputs, tmp_path / "g.onnx")
    # an independent check, on a batch size the export never saw
    args = tuple(torch.cat([a, a, a[:1]]) for a in args)
    session = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {n: a.numpy() for n, a in zip(names, args)})
    with torch.no_grad():
        expected = module(*args)
    for e, g in zip(expected if isinstance(expected, tuple) else (expected,), got):
        assert g.shape == tuple(e.shape) and g.shape[0] == 17
        np.testing.assert_allclose(g, e.numpy(), atol=1e-4, rtol=1e-3)


@pytest.mark.slow
def test_quick_run_exports_a_latent_cgan_per_the_contract(tmp_path, checkpoints):
    from training.run import main
    out = main(["--dataset", "mnist", "--arch", "latent-cgan", "--quick", "--out", str(tmp_path / "exported"),
                "--checkpoints", str(checkpoints), "--threads", "2"])[0]
    model = Model.from_folder(out)
    card = model.card
    assert card.kind == "image" and card.condition.classes == [str(d) for d in range(10)]
    assert {"generator", "decoder", "encoder", "classifier", "discriminator"} <= set(model.sessions)
    assert [o.name for o in model.sessions["generator"].get_outputs()] == ["latent"]
    m = card.metrics
    assert {"frechet", "precision", "recall", "detection_auc", "conditional_accuracy",
            "reference_real_train_vs_test", "interpolation"} <= set(m)
    assert 0 <= m["conditional_accuracy"] <= 1 and m["reference_real_train_vs_test"]["frechet"] > 0
    assert card.training.command.startswith("python -m training.run --dataset mnist")


def test_digit_settings_from_the_command_line():
    assert run_digits.parse_settings(["pixel-cgan"], ["width=16", "epochs=3", "betas=0.5,0.9"]) == {
        "width": 16, "epochs": 3, "betas": (0.5, 0.9)}
    assert "16×14×14" in run_digits.architecture("pixel-cgan", {"noise_dim": 64, "width": 8})
    with pytest.raises(ValueError, match="not a setting of latent-gan"):
        run_digits.parse_settings(["latent-gan", "pixel-cgan"], ["width=16"])
    for bad in ("colour=red", "width=", "seed=3"):
        with pytest.raises(ValueError, match="--set expects key=value"):
            run_digits.parse_settings(["pixel-cgan"], [bad])


@pytest.mark.slow
def test_decoder_width_reaches_the_exported_decoder_and_keys_the_cached_autoencoder(tmp_path, monkeypatch):
    assert run_digits.parse_settings(["latent-cgan"], ["decoder_width=16"]) == {"decoder_width": 16}
    assert "64×7×7 → 32×14×14" in run_digits.architecture("latent-gan", {"decoder_width": 16})
    assert "128×7×7 → 64×14×14" in run_digits.architecture("latent-cgan", {})
    gen = torch.Generator().manual_seed(0)
    data = {"x": torch.rand(200, 28, 28, generator=gen), "y": torch.arange(200) % 10,
            "xt": torch.rand(100, 28, 28, generator=gen), "yt": torch.arange(100) % 10}
    monkeypatch.setattr(run_digits, "few_label_accuracy", lambda *a, **k: {})
    trained = []
    real = run_digits.digits.train_autoencoder
    monkeypatch.setattr(run_digits.digits, "train_autoencoder",
                        lambda x, *a, **k: trained.append(k["decoder_width"]) or real(x[:64], *a, **k, batch=32))
    _, dec8, info = run_digits.autoencoder(data, tmp_path, quick=True, decoder_width=8)
    _, dec32, _ = run_digits.autoencoder(data, tmp_path, quick=True)
    assert dec8.width == 8 and dec32.width == 32 and info["settings"]["decoder_width"] == 8
    assert trained == [8, 32]  # the width-8 file was not taken for the default
    run_digits.autoencoder(data, tmp_path, quick=True, decoder_width=8)
    assert trained == [8, 32]  # ...and each width is reused from its own file
    assert {p.name for p in tmp_path.iterdir()} == {"mnist-autoencoder-quick.pt",
                                                    "mnist-autoencoder-quick-decoder8.pt"}
    # a width-32 file written before the width was part of the meta is still the width-32 autoencoder
    state = torch.load(tmp_path / "mnist-autoencoder-quick.pt", weights_only=True)
    del state["meta"]["decoder_width"]
    torch.save(state, tmp_path / "mnist-autoencoder-quick.pt")
    run_digits.autoencoder(data, tmp_path, quick=True)
    assert trained == [8, 32]
    # the width reaches the exported decoder graph
    import onnx
    module = run_digits.LatentToImage(dec8)
    args, names = run_digits._inputs("decoder", module, 32, False)
    run_digits._export_checked(module, args, names, ["image"], tmp_path / "decoder.onnx")
    sizes = {tuple(t.dims) for t in onnx.load(str(tmp_path / "decoder.onnx")).graph.initializer}
    assert (4 * 8 * 49, 32) in sizes or (32, 4 * 8 * 49) in sizes


@needs_models
@pytest.mark.parametrize("model_id", IMAGE_MODELS)
def test_committed_digit_models_follow_the_contract(model_id):
    model = Model.load(model_id)
    for entry in model.card.files.values():
        assert entry.bytes <= 10 * 2 ** 20, f"{entry.path} is over 10 MB"
    images, _ = sample_images(model, 12, seed=3)
    assert images.shape == (12, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    again, _ = sample_images(model, 12, seed=3)
    other, _ = sample_images(model, 12, seed=4)
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, other)


@needs_models
def test_the_judge_classifier_is_at_least_99_percent_accurate(mnist):
    model = Model.load(IMAGE_MODELS[0])
    x, y = mnist["x_test"][:3000].astype(np.float32) / 255, mnist["y_test"][:3000]
    probs, features = dm.judge(model.sessions["classifier"], x)
    assert features.shape == (3000, 128)
    assert (probs.argmax(1) == y).mean() >= 0.99


@needs_models
@pytest.mark.parametrize("model_id", CONDITIONAL)
def test_conditional_models_draw_the_requested_digit(model_id):
    model = Model.load(model_id)
    codes = np.repeat(np.arange(10), 20)
    images = generate_images(model, model.noise(200, 11), codes)
    probs, _ = dm.judge(model.sessions["classifier"], images)
    assert (probs.argmax(1) == codes).mean() > 0.8  # chance is 0.1


@needs_models
@pytest.mark.parametrize("model_id", IMAGE_MODELS)
def test_interpolation_endpoints_are_the_decoded_endpoints(model_id, mnist):
    model = Model.load(model_id)
    za, zb = model.noise(2, 5)
    codes = np.full(7, 3) if model.classes else None
    frames = generate_images(model, path(za, zb, 7, "spherical"), codes)
    ends = generate_images(model, np.stack([za, zb]), codes[:2] if codes is not None else None)
    np.testing.assert_allclose(frames[[0, -1]], ends, atol=1e-6)
    if "encoder" in model.sessions:
        real = mnist["x_test"][:2].astype(np.float32) / 255
        latents = encode_images(model, real)
        frames = decode_latents(model, path(latents[0], latents[1], 5, "linear"))
        np.testing.assert_allclose(frames[[0, -1]], decode_latents(model, latents), atol=1e-6)


@needs_models
def test_bad_inputs_give_clear_errors():
    model = Model.load(CONDITIONAL[0] if CONDITIONAL else IMAGE_MODELS[0])
    with pytest.raises(ValueError, match=r"shape \[n, 28, 28\]"):
        dm.judge(model.sessions["classifier"], np.zeros((3, 784), np.float32))
    with pytest.raises(ValueError, match="z must have shape"):
        generate_images(model, np.zeros((2, model.latent_dim + 1), np.float32), np.zeros(2, np.int64))
    if model.classes:
        with pytest.raises(ValueError, match="from 0 to 9"):
            generate_images(model, model.noise(2, 0), np.array([3, 10]))
        with pytest.raises(ValueError, match="one label per image"):
            generate_images(model, model.noise(2, 0), None)
    latent = [m for m in IMAGE_MODELS if m.startswith("mnist-latent")]
    if latent:
        encoder_model = Model.load(latent[0])
        with pytest.raises(ValueError, match="shape"):
            encode_images(encoder_model, np.zeros((2, 28, 27), np.float32))
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            encode_images(encoder_model, np.full((1, 28, 28), 255, np.float32))


def test_metrics_tell_same_from_different_features():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((1500, 8)), rng.standard_normal((1500, 8))
    shifted = b + 1.5
    assert dm.frechet(a, b) < 0.1 < 8 < dm.frechet(a, shifted)
    same, far = dm.precision_recall(a, b), dm.precision_recall(a, shifted)
    assert min(same.values()) > 0.8 and max(far.values()) < 0.4
    assert abs(dm.detection_auc(a, b) - 0.5) < 0.05 and dm.detection_auc(a, shifted) > 0.95
    probs = np.eye(10)[[1, 1, 2, 3]] * 0.95 + 0.005
    assert dm.conditional_accuracy(probs, np.array([1, 2, 2, 3]))["per_digit"] == {"1": 1.0, "2": 0.5, "3": 1.0}


@pytest.mark.slow
def test_freezed_experiment_writes_both_methods_and_the_reference(tmp_path, checkpoints):
    from experiments.freezed import main
    table = main(["--quick", "--seeds", "0", "--checkpoints", str(checkpoints), "--out", str(tmp_path / "f.csv")])
    assert (tmp_path / "f.csv").is_file()
    assert {"plain fine-tuning", "FreezeD (D lower layers frozen)", "real train 8/9 (reference)"} <= set(table["method"])
    assert table[["frechet", "precision", "recall", "detection_auc"]].notna().all().all()
