"""Faults with real processes: ``kill -9`` during training and during export, and broken model files.

* Training killed with SIGKILL at a random moment inside an epoch: the checkpoint on disk is whole
  (atomic rename), holds every epoch finished up to the last one, and the time since it was written
  is under one epoch; ``--resume`` starts from it and ends with the very weights of a run that was
  never interrupted (same command, seed and thread count).
* Export killed with SIGKILL while the new model is being written: the previous model in the output
  folder is untouched (same sha256), verifies, loads, samples and is what the app shows; the next
  ``--resume`` run exports the new model, which samples the same rows as the uninterrupted run's.
* Killed between the swap's two renames (only ``.old-<id>`` left): the app still serves the model.
* A copy of the committed ``exported/`` with one generator corrupted and another's card hash
  mismatched: Home names both with the reason, every other model keeps its preview and its pages.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.runtime.models import Model, discover

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
EPOCHS = 24  # quick diabetes networks, validated every epoch: about a second each on a busy 2-core machine
MODEL = "diabetes-gan"


def train_command(work: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "training.run", "--dataset", "diabetes", "--arch", "gan", "--quick",
            "--epochs", str(EPOCHS), "--set", "eval_every=1", "--no-eval", "--out", str(work / "out"), "--checkpoints", str(work / "ckpt"),
            *extra]


def start(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})
    RUNNING.append(proc)
    return proc


def checkpoint_epoch(path: Path) -> int | None:
    import torch
    try:
        return int(torch.load(path, weights_only=True)["epoch"])
    except (OSError, EOFError, RuntimeError, KeyError):
        return None


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def finish(proc: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    assert proc.wait(timeout) == 0, log.read_text()[-3000:]


@pytest.fixture(scope="module")
def killed_runs(tmp_path_factory):
    """A straight run and a run killed mid-epoch, side by side; then the killed run resumed and killed
    again during its export, with the straight run's model in place as the 'previous' model."""
    straight, broken = tmp_path_factory.mktemp("straight"), tmp_path_factory.mktemp("killed")
    rng = random.Random(5)
    ckpt = broken / "ckpt" / f"{MODEL}.pt"
    a = start(train_command(straight), straight / "log")
    b = start(train_command(broken), broken / "log")
    try:
        yield from _kill_and_resume(a, b, straight, broken, ckpt, rng)
    finally:
        for proc in list(RUNNING):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        RUNNING.clear()


RUNNING: list[subprocess.Popen] = []


def _kill_and_resume(a, b, straight, broken, ckpt, rng):
    writes, seen = [], 0  # (mtime, epoch) of every checkpoint seen while polling
    deadline = time.monotonic() + 600
    while seen < EPOCHS // 4 or len(writes) < 2:
        assert b.poll() is None and time.monotonic() < deadline, (broken / "log").read_text()[-3000:]
        mtime = ckpt.stat().st_mtime if ckpt.exists() else None
        if mtime and (not writes or mtime != writes[-1][0]):
            epoch = checkpoint_epoch(ckpt)
            if epoch and ckpt.stat().st_mtime == mtime and (not writes or epoch > writes[-1][1]):  # a consistent pair
                writes.append((mtime, epoch))
                seen = epoch
        time.sleep(0.01)
    epoch_seconds = max((t2 - t1) / (e2 - e1) for (t1, e1), (t2, e2) in zip(writes, writes[1:]))  # slowest seen
    time.sleep(rng.uniform(0, epoch_seconds))  # somewhere inside an epoch
    os.kill(b.pid, signal.SIGKILL)
    killed_at = time.time()
    assert b.wait(30) == -signal.SIGKILL
    training_kill = {"epoch": checkpoint_epoch(ckpt), "seen": seen, "lost_s": killed_at - ckpt.stat().st_mtime,
                     "epoch_s": epoch_seconds, "tmp_left": ckpt.with_suffix(".tmp").exists()}
    finish(a, straight / "log")

    previous = broken / "out" / MODEL
    shutil.copytree(straight / "out" / MODEL, previous)  # a valid model from an earlier run
    before = hashes(previous)
    c = start(train_command(broken, "--resume"), broken / "resume.log")
    while not list((broken / "out").glob(f".tmp-{MODEL}-*")):
        assert c.poll() is None and time.monotonic() < deadline, (broken / "resume.log").read_text()[-3000:]
        time.sleep(0.01)
    time.sleep(rng.uniform(0, 0.5))  # the new model is being written and checked
    os.kill(c.pid, signal.SIGKILL)
    export_killed = c.wait(30) == -signal.SIGKILL
    yield {"straight": straight, "broken": broken, "training_kill": training_kill, "before": before,
           "export_killed": export_killed, "left": sorted(p.name for p in (broken / "out").iterdir())}


@pytest.mark.slow
def test_kill_during_training_loses_at_most_one_epoch(killed_runs):
    kill = killed_runs["training_kill"]
    assert kill["epoch"] is not None, "checkpoint unreadable after kill -9"
    assert kill["epoch"] >= kill["seen"]  # nothing that was saved is gone
    # the work lost is what ran since the last checkpoint: less than one epoch (plus scheduling slack)
    assert kill["lost_s"] < 1.5 * kill["epoch_s"] + 0.5, kill
    log = (killed_runs["broken"] / "resume.log").read_text()
    # the progress bar counts rows; its postfix names each finished epoch: the first after the resume is the next one
    finished = [int(n) for n in re.findall(r"epoch=(\d+)", log)]
    assert finished and finished[0] == kill["epoch"] + 1, (kill, log[-2000:])  # resumed from the checkpoint's epoch


@pytest.mark.slow
def test_resumed_training_ends_with_the_uninterrupted_weights(killed_runs):
    import torch
    resumed = torch.load(killed_runs["broken"] / "ckpt" / f"{MODEL}.pt", weights_only=True)
    straight = torch.load(killed_runs["straight"] / "ckpt" / f"{MODEL}.pt", weights_only=True)
    assert resumed["epoch"] == straight["epoch"] == EPOCHS
    assert [h["epoch"] for h in resumed["history"]] == list(range(1, EPOCHS + 1))
    for part in ("G", "G_ema", "D"):
        for name, tensor in straight[part].items():
            assert torch.equal(tensor, resumed[part][name]), f"{part}.{name} differs after kill -9 and --resume"


@pytest.mark.slow
def test_kill_during_export_keeps_the_previous_model_served(killed_runs, monkeypatch):
    out = killed_runs["broken"] / "out"
    assert killed_runs["export_killed"], "the run finished before it could be killed during export"
    assert any(name.startswith(f".tmp-{MODEL}") for name in killed_runs["left"])  # it died mid-export
    assert hashes(out / MODEL) == killed_runs["before"]
    good, bad = discover(out)
    assert list(good) == [MODEL] and not bad
    assert len(Model.load(MODEL, out).sample(50, seed=1)) == 50
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(out))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.dataframe) == 2 and list(at.dataframe[0].value["id"]) == [MODEL]  # comparison table + preview


@pytest.mark.slow
def test_next_resume_exports_the_same_model_as_an_uninterrupted_run(killed_runs):
    broken, straight = killed_runs["broken"], killed_runs["straight"]
    d = start(train_command(broken, "--resume"), broken / "final.log")
    finish(d, broken / "final.log")
    ours, theirs = Model.load(MODEL, broken / "out"), Model.load(MODEL, straight / "out")
    pd.testing.assert_frame_equal(ours.sample(500, seed=3), theirs.sample(500, seed=3))


def test_export_killed_between_its_two_renames_still_serves_the_model(tmp_path):
    """Only ``.old-<id>`` left (the new folder never arrived): the app serves the previous model."""
    committed = ROOT / "exported"
    shutil.copytree(committed / MODEL, tmp_path / f".old-{MODEL}")
    shutil.copytree(committed / "diabetes-cgan", tmp_path / "diabetes-cgan")
    (tmp_path / f".tmp-{MODEL}-123").mkdir()  # a half-written export beside it
    good, bad = discover(tmp_path)
    assert sorted(good) == ["diabetes-cgan", MODEL] and not bad
    pd.testing.assert_frame_equal(Model.load(MODEL, tmp_path).sample(20), Model.load(MODEL, committed).sample(20))


# ---------------------------------------------------------------- corrupt files in a copy of exported/
def test_corrupt_and_mismatched_committed_models_are_refused_others_work(tmp_path, monkeypatch):
    ids = sorted(p.parent.name for p in (ROOT / "exported").glob("*/card.json"))
    if len(ids) < 3:
        pytest.skip("needs the committed models")
    root = tmp_path / "exported"
    shutil.copytree(ROOT / "exported", root, ignore=shutil.ignore_patterns(".*"))
    tables = [i for i in ids if json.loads((ROOT / "exported" / i / "card.json").read_text())["kind"] == "tabular"]
    corrupt, mismatched = tables[0], tables[1]
    onnx = root / corrupt / "generator.onnx"
    data = bytearray(onnx.read_bytes())
    data[100:200] = bytes(100)  # bytes flipped on disk
    onnx.write_bytes(bytes(data))
    card = json.loads((root / mismatched / "card.json").read_text())
    card["files"]["discriminator"]["sha256"] = "0" * 64  # a card that no longer matches its files
    (root / mismatched / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    errors = " | ".join(str(e.value) for e in at.error)
    for model_id in (corrupt, mismatched):
        assert model_id in errors and "sha256" in errors
    # a comparison table per dataset, and every other table model previews rows (digits show images)
    datasets = {json.loads((root / m / "card.json").read_text())["dataset"] for m in os.listdir(root)
                if (root / m / "card.json").is_file() and m not in (corrupt, mismatched)}
    assert len(at.dataframe) == len(datasets) + len(tables) - 2
    working = tables[2]
    at.switch_page("app_pages/sample.py")
    at.query_params["model"] = corrupt
    at.run()
    assert f"Model `{corrupt!r}` is refused" in " ".join(str(e.value) for e in at.error)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/sample.py")
    at.query_params["model"] = working
    at.run()
    assert not at.exception and not at.error and len(at.dataframe[0].value) == 1000
