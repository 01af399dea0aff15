"""The CLI end to end on real data (tiny configs), export contract and failure handling."""
import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from explorer.runtime.models import Model, ModelError
from training.configs import config_for
from training.gan import CheckpointError, TabularGAN
from training.run import main


@pytest.mark.slow
def test_quick_run_exports_both_models(quick_models):
    assert sorted(p.name for p in quick_models.iterdir()) == ["diabetes-cgan", "diabetes-gan"]
    card = json.loads((quick_models / "diabetes-cgan" / "card.json").read_text())
    assert card["training"]["command"].startswith("python -m training.run --dataset diabetes --quick")
    assert card["condition"]["classes"] == ["tested_negative", "tested_positive"]
    assert 0 <= card["metrics"]["detection_rf_auc"] <= 1 and card["metrics"]["fooled_rate"] >= 0
    history = json.loads((quick_models / "diabetes-cgan" / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2] and "d_accuracy" in history[0]


@pytest.mark.slow
def test_onnx_is_self_contained_and_dynamic(quick_models):
    model = onnx.load(str(quick_models / "diabetes-gan" / "generator.onnx"))
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic batch
    m = Model.load("diabetes-gan", quick_models)
    assert len(m.sample(1)) == 1 and len(m.sample(40_000)) == 40_000  # crosses the batch size


@pytest.mark.slow
def test_onnx_holds_no_source_paths(quick_models):
    """The exporter's per-node stack traces name the checkout's absolute paths: kept, the same
    command run from another folder would write other bytes (bug found rerunning a card's command
    in a second worktree: identical weights, different sha256)."""
    root = str(Path(__file__).resolve().parent.parent).encode()
    for name in ("diabetes-gan", "diabetes-cgan"):
        for file in ("generator.onnx", "discriminator.onnx"):
            data = (quick_models / name / file).read_bytes()
            assert root not in data and b"site-packages" not in data and b"stack_trace" not in data, (name, file)
            assert any(p.key == "namespace" for n in onnx.load(str(quick_models / name / file)).graph.node
                       for p in n.metadata_props)  # the path-free metadata stays


@pytest.mark.slow
def test_onnx_equals_torch(quick_models, diabetes, tmp_path):
    gan = TabularGAN(config_for("diabetes", "cgan", quick=True)).fit(diabetes, progress=False)
    from training.export import export
    export(gan, diabetes, "check", tmp_path, "test", evaluate=False)
    labels = np.array(["tested_positive", "tested_negative"] * 200, dtype=object)
    via_torch = gan.sample(400, seed=7, labels=labels)
    via_onnx = Model.load("check", tmp_path).generate(np.random.default_rng(7).standard_normal((400, 16), dtype=np.float32), labels)
    assert (via_onnx["class"] == via_torch["class"]).all()
    step = {"mass": 0.1, "pedi": 0.001}  # one rounding unit; the others are integers
    for col in diabetes.numeric:
        diff = (via_onnx[col] - via_torch[col]).abs()
        # float32 kernels differ in the last bits, which can flip a rounding at a boundary
        assert diff.max() <= step.get(col, 1) + 1e-9 and (diff == 0).mean() >= 0.98, col


@pytest.mark.slow
def test_same_seed_same_rows_other_seed_other_rows(quick_models):
    m = Model.load("diabetes-cgan", quick_models)
    a, b = m.sample(500, seed=3), m.sample(500, seed=3)
    assert a.equals(b)
    assert not a.equals(m.sample(500, seed=4))
    mix = m.sample(1000, seed=3, mix={"tested_positive": 0.3, "tested_negative": 0.7})
    assert (mix["class"] == "tested_positive").sum() == 300  # exact, no rejection sampling


def test_unknown_dataset_is_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["--dataset", "iris", "--quick"])
    assert "unknown dataset 'iris'" in capsys.readouterr().err


def test_bad_override_is_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["--dataset", "diabetes", "--set", "nonsense=1"])
    assert "--set expects key=value" in capsys.readouterr().err


def test_checkpoints_default_to_a_user_cache_outside_the_checkout(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = "".join(capsys.readouterr().out.split())  # argparse wraps long paths anywhere
    assert f"(default:{tmp_path / 'cache' / 'gan-explorer' / 'checkpoints'})" in help_text


def test_export_prints_nothing_the_user_cannot_act_on(tmp_path, capfd):
    """torch.onnx.export printed 8 "torchvision is not installed" lines, a FutureWarning about its own
    pytree code and a note on the shared batch axis for every exported graph."""
    from training.export import onnx_export

    class TwoInputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(5, 2)

        def forward(self, a, b):
            return self.linear(torch.cat([a, b], 1))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        onnx_export(TwoInputs(), (torch.zeros(4, 3), torch.zeros(4, 2)), ["a", "b"], ["y"], tmp_path / "m.onnx")
    out, err = capfd.readouterr()
    assert [str(w.message) for w in caught] == [] and "torchvision" not in out + err
    assert (tmp_path / "m.onnx").stat().st_size > 0


def test_corrupt_checkpoint_gives_clear_error(diabetes, tmp_path):
    ckpt = tmp_path / "x.pt"
    ckpt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="unreadable"):
        TabularGAN(config_for("diabetes", "gan", quick=True)).fit(diabetes, checkpoint=ckpt, resume=True, progress=False)


def test_checkpoint_from_other_settings_is_refused(diabetes, tmp_path):
    ckpt = tmp_path / "x.pt"
    TabularGAN(config_for("diabetes", "gan", quick=True)).fit(diabetes, checkpoint=ckpt, progress=False)
    with pytest.raises(CheckpointError, match="lr_g"):
        TabularGAN(config_for("diabetes", "gan", quick=True, lr_g=1e-3)).fit(diabetes, checkpoint=ckpt,
                                                                            resume=True, progress=False)


@pytest.mark.slow  # two quick runs
def test_checkpoint_from_before_a_setting_existed_resumes_at_its_default(diabetes, tmp_path):
    """Such a run trained at the new setting's default: it resumes, and is refused only for another value."""
    ckpt = tmp_path / "x.pt"
    TabularGAN(config_for("diabetes", "gan", quick=True)).fit(diabetes, checkpoint=ckpt, progress=False)
    state = torch.load(ckpt, weights_only=True)
    del state["config"]["pac"]
    torch.save(state, ckpt)
    TabularGAN(config_for("diabetes", "gan", quick=True)).fit(diabetes, checkpoint=ckpt, resume=True, progress=False)
    with pytest.raises(CheckpointError, match="pac"):
        TabularGAN(config_for("diabetes", "gan", quick=True, pac=2)).fit(diabetes, checkpoint=ckpt,
                                                                         resume=True, progress=False)


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_model(diabetes, tmp_path):
    """3 epochs straight == 2 epochs, stop, resume to 3: the checkpoint carries every RNG."""
    cfg = dict(quick=True, epochs=3, eval_every=1)
    straight = TabularGAN(config_for("diabetes", "gan", **cfg)).fit(diabetes, progress=False)
    ckpt = tmp_path / "r.pt"
    TabularGAN(config_for("diabetes", "gan", **{**cfg, "epochs": 2})).fit(diabetes, checkpoint=ckpt, progress=False)
    resumed = TabularGAN(config_for("diabetes", "gan", **cfg)).fit(diabetes, checkpoint=ckpt, resume=True,
                                                                   progress=False)
    assert resumed.epoch == 3 and [h["epoch"] for h in resumed.history] == [1, 2, 3]
    for a, b in zip(straight.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_hash_mismatch_refuses_only_that_model(quick_models, tmp_path):
    import shutil
    from explorer.runtime.models import discover
    root = tmp_path / "models"
    shutil.copytree(quick_models, root)
    path = root / "diabetes-gan" / "generator.onnx"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    good, bad = discover(root)
    assert list(good) == ["diabetes-cgan"] and "sha256" in bad["diabetes-gan"]
    with pytest.raises(ModelError, match="sha256"):
        Model.load("diabetes-gan", root)
    with pytest.raises(ModelError, match="unknown model `'nope'`.*diabetes-cgan"):
        Model.load("nope", root)


@pytest.mark.slow
@pytest.mark.parametrize("options", [
    dict(loss="bce", label_smoothing=0.1, label_flip=0.5, minibatch_discrimination=True, instance_noise=0.1,
         grad_clip=1.0, xavier=True, g_slope=0.2, dropout=0.3, batchnorm=False, optimizer="rmsprop"),
    dict(loss="hinge", spectral_norm=True, n_critic=2, ema=0.0, marginal_weight=0.0),
    dict(loss="wgan-gp", pac=2, balanced=True, impute="mode", patience=1),
], ids=["r1-r2-tricks", "hinge-sn", "pacgan-balanced"])
def test_every_training_option_trains_and_exports(options, adult, tmp_path):
    from training.export import export
    small = adult.__class__(**{**adult.__dict__, "train": adult.train.sample(1500, random_state=0),
                               "holdout": adult.holdout.sample(500, random_state=0)})
    gan = TabularGAN(config_for("adult", "cgan", quick=True, **options)).fit(small, progress=False)
    assert np.isfinite([h["loss_d"] for h in gan.history]).all()
    path = export(gan, small, "opt", tmp_path, "test", evaluate=False)
    rows = Model.load("opt", tmp_path).sample(300, seed=0, mix=">50K")
    assert (rows["income"] == ">50K").all() and len(rows) == 300
    if options.get("impute") == "mode":
        assert "?" not in set(rows["workclass"])
    assert ("discriminator" in json.loads((path / "card.json").read_text())["files"]) == (options.get("pac", 1) == 1)


@pytest.mark.slow
def test_failed_export_keeps_the_previous_model(quick_models, diabetes, tmp_path, monkeypatch):
    import shutil
    from training import export as export_module
    root = tmp_path / "models"
    shutil.copytree(quick_models, root)
    before = (root / "diabetes-gan" / "card.json").read_text()
    gan = TabularGAN(config_for("diabetes", "gan", quick=True, seed=5)).fit(diabetes, progress=False)
    monkeypatch.setattr(export_module, "evaluate_tabular", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        export_module.export(gan, diabetes, "diabetes-gan", root, "test")
    assert (root / "diabetes-gan" / "card.json").read_text() == before
    assert sorted(p.name for p in root.iterdir()) == ["diabetes-cgan", "diabetes-gan"]  # no temp folder left
    Model.load("diabetes-gan", root).sample(10)


def test_gradient_penalty_measures_the_critics_gradient_per_pack():
    """A linear critic with a unit weight vector has gradient norm 1 per row: no penalty; over packs of
    two rows (PacGAN) the norm is √2, so the penalty is (√2 − 1)²."""
    from training import core
    w = torch.tensor([0.6, 0.8])
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    score = lambda x: x @ w  # noqa: E731
    alpha = torch.rand(6, 1)
    assert core.gradient_penalty(score, real, fake, alpha).item() == pytest.approx(0, abs=1e-12)
    assert core.gradient_penalty(score, real, fake, alpha, group=2).item() == pytest.approx((2 ** 0.5 - 1) ** 2)
