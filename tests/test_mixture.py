"""A generator made of snapshots (``--set snapshots=K``): an equal mixture whose member the noise's last coordinate
picks, in torch, in the exported graph, in its int8 copy and in the torch twin rebuilt from the graph."""
import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from explorer.runtime.models import Model
from training.configs import config_for
from training.gan import TabularGAN
from training.instance import InstanceGAN
from training.nets import Generator, Mixture


def _mixture(k: int = 3) -> Mixture:
    torch.manual_seed(0)
    return Mixture([Generator(4, 2, 6, (8,)) for _ in range(k)]).eval()


def _noise(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    z = torch.from_numpy(rng.standard_normal((n, 5), dtype=np.float32))
    return z, torch.eye(2)[torch.from_numpy(rng.integers(0, 2, n))]


@torch.no_grad()
def test_each_row_comes_from_the_member_its_last_noise_coordinate_picks():
    mix, (z, cond) = _mixture(), _noise(3000)
    out = mix(z, cond)
    member = np.digitize(z[:, -1].numpy(), [-0.4307273, 0.4307273])  # the standard normal's thirds
    assert np.allclose(np.bincount(member) / len(z), 1 / 3, atol=0.03)
    for k, generator in enumerate(mix.members):
        rows = member == k
        assert torch.allclose(out[rows], generator(z[rows, :-1], cond[rows]), atol=1e-6)
    order = torch.randperm(len(z))  # a row depends on its own noise only, wherever it sits in the batch
    assert torch.allclose(mix(z[order], cond[order]), out[order], atol=1e-6)


def test_the_exported_mixture_equals_torch_for_any_batch_size(tmp_path):
    """A batch of one leaves two members without rows: the graph's data-dependent sizes must allow that."""
    from training.export import onnx_export
    mix = _mixture()
    onnx_export(mix, _noise(64), ["z", "label"], ["raw"], tmp_path / "mix.onnx")
    session = ort.InferenceSession(str(tmp_path / "mix.onnx"), providers=["CPUExecutionProvider"])
    for n in (1, 2, 7, 1000):
        z, cond = _noise(n, seed=n)
        with torch.no_grad():
            expected = mix(z, cond).numpy()
        got = session.run(None, {"z": z.numpy(), "label": cond.numpy()})[0]
        assert got.shape == expected.shape and np.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("setting", [{"snapshots": 2}, {"runs": 2}])
def test_snapshots_and_runs_are_refused_where_no_mixture_is_built(diabetes, setting):
    with pytest.raises(ValueError, match="runs > 1 work for the gan and cgan"):
        InstanceGAN(config_for("diabetes", "icgan", quick=True, **setting)).fit(diabetes, progress=False)


@pytest.mark.slow
def test_runs_side_by_side_mix_the_best_evaluations_of_each_seed(diabetes, tmp_path):
    """``runs=2``: the second run trains in a worker process; the mixture holds each run's best evaluations,
    the very generators of the same settings trained alone with seeds 0 and 1000 (one thread each, as there)."""
    cfg = dict(quick=True, epochs=3, eval_every=1, snapshots=2)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        both = TabularGAN(config_for("diabetes", "cgan", runs=2, **cfg)).fit(diabetes, checkpoint=tmp_path / "m.pt",
                                                                             progress=False)
        torch.set_num_threads(1)
        alone = [TabularGAN(config_for("diabetes", "cgan", seed, **cfg)).fit(diabetes, progress=False) for seed in (0, 1000)]
    finally:
        torch.set_num_threads(threads)
    assert isinstance(both.generator, Mixture) and len(both.generator.members) == 4
    assert (tmp_path / "m.run1.pt").is_file()  # the worker's own checkpoint, so a killed run resumes
    expected = [member for gan in alone for member in gan.generator.members]
    for got, want in zip(both.generator.members, expected):
        for a, b in zip(got.state_dict().values(), want.state_dict().values()):
            assert torch.equal(a, b)
    described = both.mixture_description()
    assert f"seed 0: epochs {', '.join(map(str, alone[0].snapshot_epochs))}" in described
    assert f"seed 1000: epochs {', '.join(map(str, alone[1].snapshot_epochs))}" in described


@pytest.fixture(scope="module")
def mixed_model(tmp_path_factory):
    """A quick diabetes cGAN of 3 snapshots, calibrated by pairs, through the real CLI, and its int8 copy."""
    from training.quantize import main as quantize
    from training.run import main
    out = tmp_path_factory.mktemp("mixed")
    main(["--dataset", "diabetes", "--arch", "cgan", "--quick", "--epochs", "4", "--set", "eval_every=1",
          "--set", "snapshots=3", "--set", "calibrate=true", "--set", "calibrate_parent=true",
          "--out", str(out), "--checkpoints", str(tmp_path_factory.mktemp("ckpt"))])
    quantize(["--model", "diabetes-cgan", "--out", str(out), "--no-eval"])
    return out


@pytest.mark.slow
def test_snapshots_export_a_mixture_of_the_best_evaluations(mixed_model):
    card = json.loads((mixed_model / "diabetes-cgan" / "card.json").read_text())
    scores = {h["epoch"]: h["val_score"] for h in json.loads((mixed_model / "diabetes-cgan" / "history.json").read_text())}
    best = sorted(sorted(scores, key=lambda e: -scores[e])[:3])
    assert card["latent_dim"] == config_for("diabetes", "cgan", quick=True).latent_dim + 1
    assert f"an equal mixture of G at epochs {', '.join(map(str, best))}" in card["architecture"]
    assert "last coordinate picks the mixture's member" in card["latent_distribution"]
    model = Model.load("diabetes-cgan", mixed_model)
    rows = model.sample(500, seed=3)
    assert len(rows) == 500 and rows.equals(model.sample(500, seed=3)) and not rows.equals(model.sample(500, seed=4))


@pytest.mark.slow
def test_the_torch_twin_rebuilds_the_mixture(mixed_model, diabetes):
    from training.twin import Twin, torch_twin
    model = Model.load("diabetes-cgan", mixed_model)
    twin = torch_twin(model.folder, model.card, diabetes)
    assert isinstance(twin, Twin) and isinstance(twin.network, Mixture) and len(twin.network.members) == 3
    z, codes = model.noise(2000, 1), model.label_codes(2000, 1)
    numeric, categorical = model.decode(z, codes)
    with torch.no_grad():
        t_numeric, t_categorical = twin(torch.from_numpy(z), torch.eye(2)[torch.from_numpy(codes)])
    assert np.array_equal(categorical, t_categorical.numpy())
    assert np.allclose(numeric, t_numeric.numpy(), equal_nan=True, atol=1e-3)


@pytest.mark.slow
def test_the_int8_copy_of_a_mixture_agrees_with_it(mixed_model):
    card = json.loads((mixed_model / "diabetes-cgan-int8" / "card.json").read_text())
    assert card["latent_dim"] == json.loads((mixed_model / "diabetes-cgan" / "card.json").read_text())["latent_dim"]
    from training.quantize import agreement
    check = agreement(Model.load("diabetes-cgan", mixed_model), Model.load("diabetes-cgan-int8", mixed_model))
    assert check["numeric_median_abs_diff_of_range"] < 0.02  # diabetes has numeric columns only


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_same_snapshots(diabetes, tmp_path):
    cfg = dict(quick=True, epochs=3, eval_every=1, snapshots=2)
    straight = TabularGAN(config_for("diabetes", "cgan", **cfg)).fit(diabetes, progress=False)
    ckpt = tmp_path / "r.pt"
    TabularGAN(config_for("diabetes", "cgan", **{**cfg, "epochs": 2})).fit(diabetes, checkpoint=ckpt, progress=False)
    resumed = TabularGAN(config_for("diabetes", "cgan", **cfg)).fit(diabetes, checkpoint=ckpt, resume=True,
                                                                    progress=False)
    assert straight.snapshot_epochs == resumed.snapshot_epochs and len(straight.snapshot_epochs) == 2
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)
