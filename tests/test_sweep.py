"""experiments.sweep: the quick Ray Tune sweep on a local Ray writes the trial CSV and the seed table,
its metrics are the cards' (same functions, same rows as an export), resume runs only what is
missing, bad options fail before Ray starts, and the Training page shows the tables."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ray.tune")

from explorer.metrics import sweeps  # noqa: E402
from experiments import sweep as sw  # noqa: E402
from training.configs import TABLES, Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ray_session():
    import ray

    owned = sw.connect(None, 2)  # another module's Ray is reused as it is
    yield ray
    if owned:
        ray.shutdown()


def quick_trial(arch: str, seed: int) -> dict:
    trial = next(t for t in sw.grid("r1", quick=True) if t["arch"] == arch and t["seed"] == seed)
    return dict(trial, dataset="diabetes", space="r1", quick=True)


@pytest.fixture(scope="module")
def quick(ray_session, tmp_path_factory):
    """The quick sweep resumed from a CSV holding one trial run in this process: Ray runs the other 3."""
    out = tmp_path_factory.mktemp("sweep") / "sweep-diabetes-r1.csv"
    pd.DataFrame([{**sw.train_and_measure(quick_trial("gan", 42)), "command": "in-process"}]).to_csv(out, index=False)
    table = sw.sweep("diabetes", "r1", quick=True, out=out, resume=True, command="python -m experiments.sweep --quick",
                     progress=False)
    return out, table


@pytest.mark.slow
def test_quick_sweep_writes_every_trial(quick):
    out, table = quick
    trials = pd.read_csv(out)
    assert len(trials) == 4 and len(table) == 4
    fields = Settings.names(TABLES)
    assert set(fields) | set(sweeps.REQUIRED) <= set(trials.columns)
    assert sorted(zip(trials["arch"], trials["seed"])) == [("cgan", 42), ("cgan", 1234), ("gan", 42), ("gan", 1234)]
    assert list(trials["conditional"]) == [a == "cgan" for a in trials["arch"]]
    assert (trials["epochs"] == 2).all() and (trials["epochs_run"] == 2).all() and (trials["g_hidden"].astype(str) == "32").all()
    for col in ("detection_rf_auc", "detection_lr_auc", "mean_ks_tv_complement", "real_auc", "synthetic_auc"):
        assert trials[col].between(0, 1).all(), col
    assert trials["efficacy_ratio"].between(0, 2).all()
    assert (trials["real_auc"] > 0.7).all()  # the real forest on diabetes, whatever the generator
    assert (trials["seconds"] > 0).all() and (trials["train_seconds"] <= trials["seconds"]).all()
    assert (trials["command"] == "python -m experiments.sweep --quick").sum() == 3  # and the resumed in-process row
    assert trials["code_version"].str.len().min() >= 7

    seeds = pd.read_csv(out.with_name("sweep-diabetes-r1-seeds.csv"))
    assert len(seeds) == 2 and (seeds["seeds"] == 2).all() and seeds["efficacy_ratio_std"].notna().all()
    pretty = sweeps.pretty_summary(sweeps.seed_summary(trials))
    assert pretty["efficacy_ratio"].str.contains(" ± ").all()
    mean = trials.groupby("label")["efficacy_ratio"].mean()
    assert math.isclose(seeds.set_index("label")["efficacy_ratio_mean"].max(), round(mean.max(), 4))


@pytest.mark.slow
def test_metrics_are_the_cards_and_the_ray_trials(quick, diabetes, tmp_path):
    """The Ray trial, the same trial in this process (no export) and card.json of its export agree."""
    from training.configs import config_for
    from training.export import export
    from training.gan import TabularGAN

    trial = quick_trial("cgan", 1234)
    gan = TabularGAN(config_for("diabetes", "cgan", 1234, True, **trial["overrides"])).fit(diabetes, progress=False)
    mine = sw.holdout_metrics(gan, diabetes)
    card = json.loads((export(gan, diabetes, "diabetes-cgan", tmp_path, "test") / "card.json").read_text())
    _, table = quick
    ray_row = table[(table["arch"] == "cgan") & (table["seed"] == 1234)].iloc[0]
    for col in sweeps.METRICS:
        assert mine[col] == pytest.approx(card["metrics"][col], abs=1e-9), col
        assert mine[col] == pytest.approx(ray_row[col], abs=1e-12), col


@pytest.mark.slow
def test_resume_ran_only_missing_trials(quick):
    out, table = quick
    commands = table.set_index(["arch", "seed"])["command"]
    assert commands[("gan", 42)] == "in-process" and (commands.drop(("gan", 42)) != "in-process").all()
    assert list(zip(table["arch"], table["seed"])) == [(t["arch"], t["seed"]) for t in sw.grid("r1", quick=True)]
    before = out.read_text()
    again = sw.sweep("diabetes", "r1", quick=True, out=out, resume=True, command="again", progress=False)
    assert len(again) == 4 and out.read_text() == before  # nothing left to run


@pytest.mark.parametrize("kwargs, message", [
    ({"dataset": "iris"}, "unknown dataset 'iris'"),
    ({"space": "huge"}, "unknown space 'huge'"),
    ({"epochs": 0}, "--epochs must be"),
    ({"num_cpus": 0}, "--num-cpus sizes the local Ray"),
    ({"address": "127.0.0.1:1"}, "cannot reach the Ray cluster at 127.0.0.1:1"),
])
def test_bad_options_fail_clearly(kwargs, message, tmp_path, monkeypatch):
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # the address check even when a Ray runs
    with pytest.raises(sw.SweepError, match=message):
        sw.sweep(**{"quick": True, "out": tmp_path / "s.csv", "progress": False, **kwargs})


def test_cli_exit_code(capsys):
    with pytest.raises(SystemExit) as exc:
        sw.main(["--dataset", "iris", "--quick"])
    assert exc.value.code == 2 and "unknown dataset" in capsys.readouterr().err


def test_grids_are_r1s_and_ours():
    r1 = sw.grid("r1")
    assert len(r1) == 96 and {t["seed"] for t in r1} == {1234, 42, 57}
    assert len({t["label"] for t in r1}) == 32 and sum(t["arch"] == "cgan" for t in r1) == 48
    hidden = {t["overrides"]["g_hidden"] for t in r1}
    assert hidden == {(128, 128), (256, 256)} and all(t["overrides"]["lr_g"] == t["overrides"]["lr_d"] for t in r1)
    assert {t["overrides"]["optimizer"] for t in r1} == {"adam", "rmsprop"}
    assert len(sw.grid("ours")) == 48 and len(sw.grid("r1", quick=True)) == 4


@pytest.mark.slow
# ------------------------------------------------------------------ the Training page
def test_training_page_shows_sweep_tables(quick, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    models = ROOT / "exported"
    if not any(models.glob("*/card.json")):
        pytest.skip("no committed models in exported/")
    out, _ = quick
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(out, folder / out.name)
    shutil.copy(out.with_name("sweep-diabetes-r1-seeds.csv"), folder)  # summaries are not listed as sweeps
    (folder / "sweep-broken-r1.csv").write_text("a,b\n1,2\n")
    monkeypatch.setenv(sweeps.SWEEPS_ENV, str(folder))
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(models))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Hyperparameter sweeps" in [s.value for s in at.subheader]
    assert "sweep-broken-r1.csv cannot be read" in " ".join(w.value for w in at.warning)
    frames = [d.value for d in at.dataframe]
    summary = next(f for f in frames if "efficacy range" in f.columns)
    assert len(summary) == 2 and summary["efficacy_ratio"].str.contains("±").all()
    trials = next(f for f in frames if "seed" in f.columns and "label" in f.columns and "efficacy range" not in f.columns)
    assert len(trials) == 4 and {"seconds", "detection_rf_auc", "detection_lr_auc"} <= set(trials.columns)

    monkeypatch.setenv(sweeps.SWEEPS_ENV, str(tmp_path / "empty"))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception and "No sweep yet" in " ".join(i.value for i in at.info)
