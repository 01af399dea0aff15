"""Bulk generation: seeded shards of synthetic rows streamed to Parquet, locally or as Ray tasks.

    python -m explorer.generate --model adult-cgan --rows 100000000 --out synth/ [--seed S]
        [--shard-rows N] [--mix '>50K=0.3'] [--resume | --overwrite] [--ray [--address ADDR]]

The output folder holds one Parquet file per shard (``shard-00000.parquet``, ...) and
``manifest.json`` (model id, the sha256 of its card and files, seed, rows, mix, every shard's
rows and sha256). Shard ``i`` depends only on (model, seed, i, its row count, mix): its seed is
``s = SeedSequence([seed, i]).generate_state(1, uint64)[0]`` and its rows hold exactly the values of
``Model.sample(n_i, seed=s, mix=mix)`` (categories stored as Parquet dictionaries; exact class counts from ``Model.label_codes``, noise from
``default_rng(s)``), decoded and written in batches of ``WRITE_BATCH`` rows, so memory does not
grow with ``--rows``. Shards are written to a hidden temporary file and renamed, and the manifest
is rewritten after every shard, so ``--resume`` keeps each finished shard whose sha256 still
matches and writes the rest. ``--ray`` runs the same shard function as Ray tasks (a local Ray by
default, a cluster with ``--address``); each worker process loads the model once (module-level
cache) and holds its own onnxruntime session. Ray is imported only then. No torch here.
"""
from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pyarrow.parquet as pq

from explorer import inputs
from explorer.runtime.bulk import BulkDecoder, noise_chunks
from explorer.runtime.frames import typed_frame
from explorer.runtime.models import (BATCH, Model, ModelError, check_interface, models_root, noise_generator,
                                     providers, read_card, sha256)

MANIFEST = "manifest.json"
FORMAT = "gan-explorer shards v1"
DEFAULT_SHARD_ROWS = 1_000_000
MAX_SHARD_ROWS = 10_000_000  # a shard's class codes are drawn at once (8 bytes a row)
WRITE_BATCH = 8 * BATCH  # rows decoded and written per Parquet row group
SEEDING = ("shard i: s = numpy SeedSequence([seed, i]).generate_state(1, uint64)[0]; rows = "
           "Model.sample(n_i, seed=s, mix) — labels Model.label_codes(n_i, s, mix), noise "
           "default_rng(s).standard_normal float32 drawn in batches")


class GenerateError(ValueError):
    """Bad input for a bulk run: the message says what to change."""


# ---------------------------------------------------------------- the plan of a run
@dataclass(frozen=True)
class Plan:
    model: str
    seed: int
    rows: int
    shard_rows: int
    mix: dict | None  # full class weights, or None for the card's training mix

    @property
    def n_shards(self) -> int:
        return math.ceil(self.rows / self.shard_rows)

    def shard_size(self, index: int) -> int:
        return min(self.shard_rows, self.rows - index * self.shard_rows)

    def shard_name(self, index: int) -> str:
        return f"shard-{index:0{max(5, len(str(self.n_shards - 1)))}d}.parquet"


def shard_seed(seed: int, index: int) -> int:
    """The integer seed of shard ``index``: independent streams for every (seed, shard)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0])


def parse_mix(text: str | None, classes: list[str]) -> dict[str, float] | None:
    """``--mix`` in the app's grammar (explorer/inputs.py) as every class's weight; None keeps the
    card's training mix."""
    if text is None:
        return None
    try:
        return inputs.mix_weights(inputs.parse_mix(text, classes), classes)
    except inputs.InputError as exc:
        raise GenerateError(f"--mix: {exc}") from None


# ---------------------------------------------------------------- one shard
def load_generator(folder: Path, threads: int = 0) -> Model:
    """A verified model with only its generator session (``threads`` 0 = one per core).

    Idle threads sleep instead of spinning: the rest of the pipeline (noise, Arrow, Parquet) is
    single-threaded, and spinning threads cost a busy machine 1.4 × the CPU time (measured)."""
    card = read_card(folder)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(str(folder / card.files["generator"].path), options,
                                       providers=providers())
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelError(f"{folder.name}: generator cannot be loaded by onnxruntime ({exc})") from None
    check_interface(card, "generator", session)
    return Model(card.id, card, folder, {"generator": session})


ARROW_TYPES = {"datetime": pa.timestamp("us"), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
               "string": pa.string()}


def arrow_schema(model: Model) -> pa.Schema:
    if model.card.schema:  # a user's table: its own column names and types
        dtypes = {c["name"]: c["dtype"] for c in model.card.schema["columns"]}
        return pa.schema([pa.field(name, ARROW_TYPES[dtypes[name]]) for name in model.card.table_columns
                          if name in dtypes])
    numeric = {c.name for c in model.card.numeric_columns}
    return pa.schema([pa.field(name, pa.float64() if name in numeric else pa.dictionary(pa.int32(), pa.string()))
                      for name in model.card.table_columns])


def batch_table(model: Model, schema: pa.Schema, numeric: np.ndarray, categorical: np.ndarray,
                codes: np.ndarray | None) -> pa.Table:
    """The decoded outputs as an Arrow table: numerics rounded like the app's table, categories as dictionaries."""
    data, i_num, i_cat = {}, 0, 0
    for col in model.card.columns:
        if col.numeric:
            data[col.name] = pa.array(np.round(numeric[:, i_num].astype(np.float64), col.decimals))
            i_num += 1
        else:
            data[col.name] = pa.DictionaryArray.from_arrays(categorical[:, i_cat].astype(np.int32),
                                                            pa.array(col.categories, pa.string()))
            i_cat += 1
    if model.classes:
        data[model.condition.name] = pa.DictionaryArray.from_arrays(codes.astype(np.int32),
                                                                       pa.array(model.classes, pa.string()))
    return pa.Table.from_arrays([data[name] for name in schema.names], schema=schema)


def typed_batch(model: Model, schema: pa.Schema, numeric: np.ndarray, categorical: np.ndarray,
                codes: np.ndarray | None) -> pa.Table:
    """A user table's rows in its own types: dates as timestamps, integers as integers, gaps as nulls."""
    import pandas as pd

    frame = typed_frame(model.card, pd.DataFrame(model.table(numeric, categorical, codes)))[schema.names]
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def write_shard(model: Model, plan: Plan, out: Path, index: int, progress=None,
                decoder: BulkDecoder | None = None) -> dict:
    """Shard ``index`` of ``plan`` into ``out`` (temporary file, then rename); its manifest record.
    With a ``decoder`` the rows are decoded on all its workers while the previous chunk is written."""
    n, s = plan.shard_size(index), shard_seed(plan.seed, index)
    codes = model.label_codes(n, s, plan.mix) if model.classes else None
    starts = range(0, n, WRITE_BATCH)  # the stream Model.noise(n, s) draws at once, here in chunks
    chunks = noise_chunks(noise_generator(s), n, model.latent_dim, codes, WRITE_BATCH)
    decoded = decoder.stream(chunks) if decoder else (model.decode(z, part) for z, part in chunks)
    schema = arrow_schema(model)
    rows = typed_batch if model.card.schema else batch_table
    final = out / plan.shard_name(index)
    tmp = out / f".{final.name}.{os.getpid()}.tmp"
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for start, (numeric, categorical) in zip(starts, decoded):
                part = None if codes is None else codes[start:start + WRITE_BATCH]
                writer.write_table(rows(model, schema, numeric, categorical, part))
                if progress is not None:
                    progress(len(numeric))
        digest = sha256(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return {"index": index, "file": final.name, "rows": n, "sha256": digest, "bytes": final.stat().st_size}


# ---------------------------------------------------------------- the output folder and its manifest
def card_hashes(folder: Path) -> dict:
    card = read_card(folder)
    return {"card_sha256": sha256(folder / "card.json"),
            "files_sha256": {name: entry.sha256 for name, entry in card.files.items()}}


def save_manifest(out: Path, manifest: dict) -> None:
    manifest["shards"].sort(key=lambda r: r["index"])
    manifest["rows_written"] = sum(r["rows"] for r in manifest["shards"])
    manifest["complete"] = len(manifest["shards"]) == manifest["n_shards"]
    tmp = out / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, out / MANIFEST)


def ours(path: Path) -> bool:
    name = path.name
    return path.is_file() and (name == MANIFEST or (name.startswith("shard-") and name.endswith(".parquet"))
                               or (name.startswith(".") and name.endswith(".tmp")))


def prepare_out(out: Path, resume: bool, overwrite: bool) -> dict | None:
    """Check and clear ``out`` as asked; the previous manifest when resuming."""
    if resume and overwrite:
        raise GenerateError("--resume and --overwrite exclude each other")
    if out.exists() and not out.is_dir():
        raise GenerateError(f"--out {out} exists and is not a folder")
    entries = list(out.iterdir()) if out.is_dir() else []
    for stale in (p for p in entries if p.name.startswith(".") and p.name.endswith(".tmp")):
        stale.unlink()  # left by an interrupted run
    entries = [p for p in entries if p.exists()]
    if not entries:
        out.mkdir(parents=True, exist_ok=True)
        return None
    if overwrite:
        foreign = [p.name for p in entries if not ours(p)]
        if foreign:
            raise GenerateError(f"--out {out} holds files that are not shards of a previous run "
                                f"({', '.join(sorted(foreign)[:5])}); refusing to overwrite, choose another folder")
        for p in entries:
            p.unlink()
        return None
    if not resume:
        raise GenerateError(f"--out {out} is not empty; pass --resume to continue the run in it "
                            "or --overwrite to replace it")
    try:
        return json.loads((out / MANIFEST).read_text())
    except FileNotFoundError:
        raise GenerateError(f"--resume: {out} has no {MANIFEST}, so there is no run to continue") from None
    except json.JSONDecodeError as exc:
        raise GenerateError(f"--resume: {out / MANIFEST} is not valid JSON ({exc})") from None


def kept_shards(out: Path, previous: dict, manifest: dict) -> list[dict]:
    """The previous run's shard records whose files are still there and match their sha256."""
    keys = ("format", "model", "card_sha256", "seed", "rows", "shard_rows", "mix")
    differ = [k for k in keys if previous.get(k) != manifest[k]]
    if differ:
        detail = "; ".join(f"{k}: {previous.get(k)!r} there, {manifest[k]!r} now" for k in differ)
        raise GenerateError(f"--resume: {out} holds a different run ({detail}); use the same options "
                            "or --overwrite")
    kept = []
    for record in previous.get("shards", []):
        path = out / record["file"]
        if path.is_file() and sha256(path) == record["sha256"]:
            kept.append(record)
        elif path.exists():
            print(f"shard {record['index']}: {path.name} does not match its sha256; writing it again",
                  file=sys.stderr)
    return kept


# ---------------------------------------------------------------- running the shards
def run_local(model: Model, plan: Plan, out: Path, todo: list[int], done, bar) -> None:
    with BulkDecoder(model) as decoder:
        for index in todo:
            done(write_shard(model, plan, out, index, progress=bar.update, decoder=decoder))


_WORKER_MODELS: dict[str, Model] = {}


def worker_model(blob: dict) -> Model:
    """The model of ``blob`` in this process, loaded once (files unpacked to a temporary folder)."""
    key = blob["card_sha256"]
    if key not in _WORKER_MODELS:
        root = Path(tempfile.mkdtemp(prefix="gan-explorer-"))
        atexit.register(shutil.rmtree, root, True)
        folder = root / blob["id"]
        folder.mkdir()
        for name, content in blob["files"].items():
            (folder / name).write_bytes(content)
        _WORKER_MODELS[key] = load_generator(folder, threads=1)
    return _WORKER_MODELS[key]


def ray_shard(blob: dict, plan: dict, out: str, index: int) -> dict:
    """One shard inside a Ray worker: the same function as the local run, one thread per task."""
    return write_shard(worker_model(blob), Plan(**plan), Path(out), index)


def model_blob(folder: Path, hashes: dict) -> dict:
    card = read_card(folder)
    names = ["card.json"] + [entry.path for entry in card.files.values()]
    return {"id": card.id, "card_sha256": hashes["card_sha256"],
            "files": {name: (folder / name).read_bytes() for name in names}}


def start_ray(address: str | None, num_cpus: int | None):
    import logging

    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    root = str(Path(__file__).resolve().parent.parent)
    if address:  # a cluster: ship the explorer package; --out must be on a filesystem every node sees
        ray.init(address=address, runtime_env={"py_modules": [str(Path(__file__).resolve().parent)]},
                 logging_level=logging.ERROR, log_to_driver=False)
    else:  # a local Ray limited to this machine's cores, workers import explorer from this checkout
        paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root] + [p for p in paths if p != root]))
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ray.init(num_cpus=num_cpus or cores, include_dashboard=False,
                 object_store_memory=200 * 2**20, logging_level=logging.ERROR, log_to_driver=False)
    return ray


def connect_ray(address: str | None, num_cpus: int | None) -> bool:
    """Start (or join) Ray unless this process already has; True when the caller must shut it down."""
    import ray

    host, _, port = (address or "").removeprefix("ray://").rpartition(":")
    if host and port.isdigit():  # ray.init waits long on an address nobody listens at: fail fast instead
        try:
            socket.create_connection((host, int(port)), timeout=10).close()
        except OSError as exc:
            raise GenerateError(f"cannot reach the Ray cluster at {address}: {exc}") from None
    if ray.is_initialized():
        return False
    try:
        start_ray(address, num_cpus)
    except (ConnectionError, RuntimeError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise GenerateError(f"cannot start or reach {where}: {str(exc).strip().splitlines()[-1]}") from None
    return True


def run_ray(folder: Path, hashes: dict, plan: Plan, out: Path, todo: list[int], done, bar) -> None:
    """The shards as Ray tasks on the Ray this process is connected to."""
    import ray

    from explorer import generate as this  # by name, also under `python -m`: workers import it, keeping its cache

    task = ray.remote(num_cpus=1, max_retries=1)(this.ray_shard)
    blob = ray.put(model_blob(folder, hashes))
    pending = [task.remote(blob, asdict(plan), str(out.resolve()), i) for i in todo]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        record = ray.get(ready[0])
        path = out / record["file"]
        if not path.is_file() or sha256(path) != record["sha256"]:
            raise GenerateError(f"shard {record['index']} written by a Ray worker is not readable here as "
                                f"{path}; with --address, --out must be on a filesystem every node shares")
        done(record)
        bar.update(record["rows"])


def generate(model_id: str, rows, out, seed=0, shard_rows=DEFAULT_SHARD_ROWS, mix: str | None = None,
             resume: bool = False, overwrite: bool = False, use_ray: bool = False, address: str | None = None,
             num_cpus: int | None = None, progress: bool = True) -> dict:
    """Write (or finish) the sharded run into ``out``; returns its manifest."""
    from tqdm import tqdm

    try:
        rows = inputs.whole(rows, "--rows", 1, 10**15)
        seed = inputs.seed(seed, "--seed")
        shard_rows = inputs.whole(shard_rows, "--shard-rows", 1, MAX_SHARD_ROWS)
    except inputs.InputError as exc:
        raise GenerateError(str(exc)) from None
    if (address or num_cpus is not None) and not use_ray:
        raise GenerateError("--address and --num-cpus need --ray")
    if num_cpus is not None and (address or num_cpus < 1):
        raise GenerateError("--num-cpus sizes a local Ray: a whole number ≥ 1, without --address")
    folder = models_root() / str(model_id)
    if not model_id or str(model_id).startswith(".") or not folder.is_dir():
        Model.load(str(model_id))  # raises the ModelError that names the available models
    model = load_generator(folder)
    kind = model.card.condition_type or "label"
    if kind not in ("label", "range") or not model.card.tabular:
        raise GenerateError(f"{model.id}: bulk generation covers tabular models, unconditional or conditioned on "
                            f"a class label; this one is {model.card.kind} conditioned on {kind}")
    plan = Plan(model.id, seed, rows, shard_rows, parse_mix(mix, model.classes))
    out = Path(out)
    hashes = card_hashes(model.folder)
    manifest = {"format": FORMAT, "model": model.id, **hashes, "seed": seed, "rows": rows,
                "shard_rows": shard_rows, "mix": plan.mix,
                "class_mix": plan.mix or (model.condition.train_share if model.condition else None),
                "n_shards": plan.n_shards, "seeding": SEEDING, "columns": arrow_schema(model).names,
                "versions": {"pyarrow": pa.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__},
                "shards": []}
    previous = prepare_out(out, resume, overwrite)
    if previous is not None:
        manifest["shards"] = kept_shards(out, previous, manifest)
    started = time.perf_counter()
    owned = connect_ray(address, num_cpus) if use_ray else False
    startup = time.perf_counter() - started
    try:
        save_manifest(out, manifest)
        finished = {r["index"] for r in manifest["shards"]}
        todo = [i for i in range(plan.n_shards) if i not in finished]

        def done(record: dict) -> None:
            manifest["shards"].append(record)
            save_manifest(out, manifest)

        with tqdm(total=rows, initial=rows - sum(plan.shard_size(i) for i in todo), unit="rows", unit_scale=True,
                  desc=f"{model.id} → {out}", disable=not progress) as bar:
            if use_ray and todo:
                run_ray(model.folder, hashes, plan, out, todo, done, bar)
            else:
                run_local(model, plan, out, todo, done, bar)
        manifest["last_run"] = {"backend": "ray" if use_ray else "local", "shards_written": len(todo),
                                "seconds": round(time.perf_counter() - started, 3),
                                "ray_start_seconds": round(startup, 3)}
        save_manifest(out, manifest)
    finally:
        if owned:
            import ray

            ray.shutdown()
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model id in exported/ (or $GAN_EXPLORER_MODELS)")
    parser.add_argument("--rows", required=True, help="total rows, e.g. 100000000")
    parser.add_argument("--out", required=True, type=Path, help="output folder (shards + manifest.json)")
    parser.add_argument("--seed", default=0)
    parser.add_argument("--shard-rows", default=DEFAULT_SHARD_ROWS, help=f"rows per shard file (≤ {MAX_SHARD_ROWS:,})")
    parser.add_argument("--mix", help="conditional models: a class ('>50K'), shares of some classes, the others "
                                      "splitting the rest ('>50K=0.3'), or every class's relative weight "
                                      "('<=50K=7,>50K=3'); ':' works as well as '=' (default: the training mix)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="keep the finished shards in --out, write the rest")
    again.add_argument("--overwrite", action="store_true", help="replace a previous run in --out")
    parser.add_argument("--ray", action="store_true", help="run the shards as Ray tasks")
    parser.add_argument("--address", help="with --ray: the cluster to join (default: start a local Ray)")
    parser.add_argument("--num-cpus", type=int, help="with --ray and no --address: CPUs for the local Ray "
                                                     "(default: this machine's cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        manifest = generate(args.model, args.rows, args.out, args.seed, args.shard_rows, args.mix, args.resume,
                            args.overwrite, args.ray, args.address, args.num_cpus, progress=not args.quiet)
    except (GenerateError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    run = manifest["last_run"]
    print(f"{manifest['rows_written']:,} rows of {manifest['model']} in {manifest['n_shards']} shard(s) under "
          f"{args.out} ({run['shards_written']} written now, {run['backend']}, {run['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
