"""Bulk generation (explorer.generate): shards on Ray equal local shards, each shard on its own, resume, bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from explorer import generate as gen
from explorer.runtime.models import Model

MODEL, ROWS, SHARD = "adult-cgan", 5_000, 3_000  # two shards: 3,000 + 2,000 rows


def frames(out):
    manifest = json.loads((out / gen.MANIFEST).read_text())
    return manifest, {r["index"]: pd.read_parquet(out / r["file"]) for r in manifest["shards"]}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    gen.generate(MODEL, ROWS, out, seed=11, shard_rows=SHARD, progress=False)
    return out


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    if ray.is_initialized():  # another module's Ray: use it as it is
        yield ray
        return
    gen.start_ray(None, 2)
    yield ray
    ray.shutdown()


def test_manifest_and_rows(local_run):
    manifest, shards = frames(local_run)
    model = Model.load(MODEL)
    assert manifest["complete"] and manifest["rows_written"] == ROWS and manifest["n_shards"] == 2
    assert manifest["card_sha256"] == gen.sha256(model.folder / "card.json")
    assert [r["rows"] for r in manifest["shards"]] == [3_000, 2_000]
    assert sorted(p.name for p in local_run.iterdir()) == [gen.MANIFEST, "shard-00000.parquet", "shard-00001.parquet"]
    for index, frame in shards.items():
        assert list(frame.columns) == model.card.table_columns
        # a shard is exactly Model.sample with the shard's own seed (exact class counts included)
        expected = model.sample(len(frame), seed=gen.shard_seed(11, index))
        pd.testing.assert_frame_equal(frame.astype(expected.dtypes.to_dict()), expected)


@pytest.mark.slow
def test_ray_shards_equal_local_shards(local_run, ray_session, tmp_path):
    manifest = gen.generate(MODEL, ROWS, tmp_path, seed=11, shard_rows=SHARD, use_ray=True, progress=False)
    assert manifest["last_run"]["backend"] == "ray" and manifest["complete"]
    local_manifest, local_shards = frames(local_run)
    ray_manifest, ray_shards = frames(tmp_path)
    assert [r["sha256"] for r in ray_manifest["shards"]] == [r["sha256"] for r in local_manifest["shards"]]
    for index in (0, 1):
        pd.testing.assert_frame_equal(ray_shards[index], local_shards[index])


def test_shard_is_reproducible_alone(local_run, tmp_path):
    _, full = frames(local_run)
    digests = [r["sha256"] for r in frames(local_run)[0]["shards"]]
    plan = gen.Plan(MODEL, 11, ROWS, SHARD, None)
    record = gen.write_shard(gen.load_generator(Model.load(MODEL).folder), plan, tmp_path, 1)
    assert record["sha256"] == digests[1] and record["rows"] == 2_000
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / record["file"]), full[1])
    # shard 0 does not depend on how many rows the whole run has
    more = gen.generate(MODEL, 6_000, tmp_path / "more", seed=11, shard_rows=SHARD, progress=False)
    assert more["shards"][0]["sha256"] == digests[0] and more["shards"][1]["sha256"] != digests[1]


def test_mix_is_exact(tmp_path):
    gen.generate(MODEL, 1_000, tmp_path, seed=2, shard_rows=600, mix=">50K=0.3", progress=False)
    manifest, shards = frames(tmp_path)
    assert manifest["mix"] == {"<=50K": 0.7, ">50K": 0.3}
    assert [(s["income"] == ">50K").sum() for s in shards.values()] == [180, 120]


def test_resume_after_interruption(tmp_path, monkeypatch):
    real = gen.write_shard

    def interrupted(model, plan, out, index, progress=None, **kw):
        if index == 1:
            raise KeyboardInterrupt
        return real(model, plan, out, index, progress, **kw)

    monkeypatch.setattr(gen, "write_shard", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gen.generate(MODEL, ROWS, tmp_path, seed=11, shard_rows=SHARD, progress=False)
    manifest = json.loads((tmp_path / gen.MANIFEST).read_text())
    assert not manifest["complete"] and [r["index"] for r in manifest["shards"]] == [0]
    assert not list(tmp_path.glob(".*.tmp"))
    first = (tmp_path / "shard-00000.parquet").stat().st_mtime_ns
    monkeypatch.setattr(gen, "write_shard", real)

    # without --resume the folder is refused; with it only shard 1 is written
    assert gen.main(["--model", MODEL, "--rows", str(ROWS), "--shard-rows", str(SHARD), "--seed", "11",
                     "--out", str(tmp_path), "--quiet"]) == 2
    manifest = gen.generate(MODEL, ROWS, tmp_path, seed=11, shard_rows=SHARD, resume=True, progress=False)
    assert manifest["complete"] and manifest["last_run"]["shards_written"] == 1
    assert (tmp_path / "shard-00000.parquet").stat().st_mtime_ns == first

    # a damaged shard fails its sha256 and is written again, identical to before
    good = manifest["shards"][0]["sha256"]
    (tmp_path / "shard-00000.parquet").write_bytes(b"not parquet")
    manifest = gen.generate(MODEL, ROWS, tmp_path, seed=11, shard_rows=SHARD, resume=True, progress=False)
    assert manifest["last_run"]["shards_written"] == 1 and manifest["shards"][0]["sha256"] == good

    # a complete run resumes to nothing; a different seed is refused
    assert gen.generate(MODEL, ROWS, tmp_path, seed=11, shard_rows=SHARD, resume=True,
                        progress=False)["last_run"]["shards_written"] == 0
    with pytest.raises(gen.GenerateError, match="different run.*seed"):
        gen.generate(MODEL, ROWS, tmp_path, seed=12, shard_rows=SHARD, resume=True, progress=False)


@pytest.mark.parametrize("args, message", [
    (["--model", "no-such-model"], "unknown model `'no-such-model'`; available: adult-cgan"),
    (["--rows", "0"], "--rows must be a whole number from 1 to "),
    (["--rows", "-5"], "--rows must be a whole number from 1 to "),
    (["--rows", "1e3.5"], "--rows must be a whole number"),
    (["--shard-rows", "20000000"], "--shard-rows must be a whole number from 1 to 10,000,000"),
    (["--seed", "-1"], "--seed must be a whole number from 0 to 4,294,967,295"),
    (["--mix", "rich=0.3"], "--mix: unknown class `'rich'` in the class mix `'rich=0.3'`"),
    (["--mix", ">50K=1.5"], "add up to 1.5 > 1"),
    (["--mix", ">50K=abc"], "the share of `'>50K'` in the class mix `'>50K=abc'` is not a number"),
    (["--mix", ">50K=-1"], "the share of `'>50K'` must be a finite number ≥ 0"),
    (["--mix", ">50K=0.3,>50K=0.2"], "named twice"),
    (["--mix", ">50K=0,<=50K=0"], "at least one class"),
    (["--model", "adult-gan", "--mix", ">50K"], "--mix: a class mix needs a conditional model"),
    (["--address", "auto"], "--address and --num-cpus need --ray"),
    (["--ray", "--num-cpus", "0"], "--num-cpus sizes a local Ray"),
    (["--ray", "--address", "127.0.0.1:1"], "cannot reach the Ray cluster at 127.0.0.1:1"),
])
def test_bad_input(args, message, tmp_path, capsys):
    # argparse keeps an option's last value, so args override the defaults in front of them
    assert gen.main(["--model", MODEL, "--rows", "100", "--out", str(tmp_path / "out"), "--quiet"] + args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / gen.MANIFEST).exists()


def test_out_folder_rules(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ["--model", MODEL, "--rows", "100", "--out", str(out), "--quiet"]
    assert gen.main(args) == 2 and "is not empty; pass --resume" in capsys.readouterr().err
    assert gen.main(args + ["--overwrite"]) == 2 and "refusing to overwrite" in capsys.readouterr().err
    assert gen.main(args + ["--resume"]) == 2 and "no manifest.json" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"
    with pytest.raises(SystemExit):
        gen.main(args + ["--resume", "--overwrite"])
    (out / "notes.txt").unlink()
    assert gen.main(args) == 0
    assert gen.main(args + ["--overwrite", "--rows", "50"]) == 0
    assert json.loads((out / gen.MANIFEST).read_text())["rows_written"] == 50


def test_local_run_imports_neither_ray_nor_torch(tmp_path):
    code = ("import sys; "
            f"from explorer.generate import main; assert main(['--model', '{MODEL}', '--rows', '10', "
            f"'--out', {str(tmp_path / 'out')!r}, '--quiet']) == 0; "
            "assert not {'ray', 'torch'} & set(sys.modules), 'ray or torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
