"""Decoded rows per second: onnxruntime vs the same generator in torch eager, in one run.

The whole path is timed: numpy noise, label one-hots, the network and the in-graph decoding
(and, separately, building the pandas table the app shows). The torch generator is rebuilt
from the ONNX file's own weights and checked to give the same rows before it is timed. For an
int8 model (training/quantize.py) the twin is rebuilt from its float source, and timed both in
float and dynamically quantised to int8 by torch itself (torch.ao.quantization.quantize_dynamic),
so onnxruntime's int8 is compared with torch's int8 too.

    python -m benchmarks.bench_sampling --model adult-cgan --rows 1000000
    python -m benchmarks.bench_sampling --model adult-cgan-balanced-int8
    python -m benchmarks.bench_sampling --model adult-cgan-balanced-calibrated-int8 --vs adult-cgan-balanced-int8

The product's bulk path (explorer/runtime/bulk.py: one single-threaded session run from one thread per
core, noise drawn meanwhile; what ``python -m explorer.generate`` decodes with) is timed too, on the same
seeds, after checking that it returns the same rows as one session.

``--vs`` times two models in turn (A B A B ...), one session and the bulk path, and prints their speed
ratio, which holds on a busy machine where absolute rows/s do not.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from explorer.runtime.bulk import CHUNK, BulkDecoder
from explorer.runtime.models import Model
from training.twin import torch_twin


def feeds(model: Model, n: int, seed: int):
    z = model.noise(n, seed)
    label = np.eye(len(model.classes), dtype=np.float32)[model.label_codes(n, seed)] if model.classes else None
    return z, label


def run_ort(session, model, n, batch, seed=0):
    z, label = feeds(model, n, seed)
    out = []
    for s in range(0, n, batch):
        feed = {"z": z[s:s + batch]}
        if label is not None:
            feed["label"] = label[s:s + batch]
        out.append(session.run(None, feed))
    return out


@torch.no_grad()
def run_torch(twin, model, n, batch, seed=0):
    z, label = feeds(model, n, seed)
    z, label = torch.from_numpy(z), (torch.from_numpy(label) if label is not None else None)
    return [twin(z[s:s + batch], None if label is None else label[s:s + batch]) for s in range(0, n, batch)]


def session_for(model: Model) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # fair to torch in the same process
    return ort.InferenceSession(str(model.folder / "generator.onnx"), opts, providers=["CPUExecutionProvider"])


def paired(a: Model, b: Model, rows: int, batches: list[int], repeat: int) -> None:
    """A's and B's decoded rows/s timed in turn, batch by batch and on the bulk path, and the median of the
    pairs' ratios."""
    sessions, bulks = [session_for(a), session_for(b)], [BulkDecoder(a), BulkDecoder(b)]
    runs = {f"{batch:>7}": [lambda s=s, m=m, batch=batch: run_ort(s, m, rows, batch) for s, m in zip(sessions, (a, b))]
            for batch in batches}
    runs["   bulk"] = [lambda d=d: d.sample(rows, 0) for d in bulks]
    print(f"{'batch':>7} {a.id + ' rows/s':>40} {b.id + ' rows/s':>40} {'ratio A/B':>10}")
    for name, fns in runs.items():
        ratios, best = [], [0.0, 0.0]
        for _ in range(repeat):
            secs = [best_of(fn, 1) for fn in fns]
            best = [max(x, rows / t) for x, t in zip(best, secs)]
            ratios.append(secs[1] / secs[0])
        print(f"{name} {best[0]:>40,.0f} {best[1]:>40,.0f} {np.median(ratios):>10.3f}")


def bulk_rows_per_s(model: Model, rows: int, repeat: int) -> float:
    """The bulk path's rows/s, after checking its rows against one session's."""
    with BulkDecoder(model) as bulk:
        n = 3 * CHUNK + 5  # several chunks and a ragged end
        numeric, categorical, codes = bulk.sample(n, 3)
        ref = model.decode(model.noise(n, 3), codes)
        if not (np.array_equal(numeric, ref[0], equal_nan=True) and np.array_equal(categorical, ref[1])):
            raise AssertionError(f"{model.id}: the bulk path's rows differ from one session's")
        return rows / best_of(lambda: bulk.sample(rows, 0), repeat)


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="adult-cgan")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, nargs="+", default=[4096, 8192, 16384, 65536])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--vs", metavar="MODEL", help="time this model's onnxruntime session in turn with --model's")
    p.add_argument("--ctgan-python", help="python of a virtualenv with ctgan, to time CTGAN.sample() too")
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    model = Model.load(args.model)
    if args.vs:
        return paired(model, Model.load(args.vs), args.rows, args.batch, args.repeat)
    session = session_for(model)
    source = (model.card.training.quantised.source if model.card.training.quantised else None)
    twin_of = Model.load(source) if source else model
    twin = torch_twin(twin_of.folder, twin_of.card)
    twins = {"torch eager": twin}
    if source:
        twins["torch eager int8"] = torch.ao.quantization.quantize_dynamic(twin, {nn.Linear}, dtype=torch.qint8)

    o = run_ort(session, model, 2048, 2048)[0]
    t = run_torch(twin, model, 2048, 2048)[0]
    same_cat = (o[1] == t[1].numpy()).mean()
    print(f"model {args.model}: {session.get_providers()[0]}, {os.cpu_count()} cores; torch twin agrees with "
          f"ONNX on {same_cat:.2%} of categories, max numeric diff {np.abs(o[0] - t[0].numpy()).max():.3g}")

    z_secs = best_of(lambda: feeds(model, args.rows, 0), args.repeat)
    print(f"noise + labels alone: {args.rows / z_secs:,.0f} rows/s")
    print(f"{'batch':>7} {'onnxruntime rows/s':>20}" + "".join(f"{name + ' rows/s':>24}" for name in twins)
          + f" {'ratio to best torch':>20}")
    best, best_torch = 0, 0
    for batch in args.batch:
        t_ort = best_of(lambda: run_ort(session, model, args.rows, batch), args.repeat)
        t_torch = [best_of(lambda: run_torch(t, model, args.rows, batch), args.repeat) for t in twins.values()]
        best, best_torch = max(best, args.rows / t_ort), max(best_torch, args.rows / min(t_torch))
        print(f"{batch:>7} {args.rows / t_ort:>20,.0f}" + "".join(f"{args.rows / t:>24,.0f}" for t in t_torch)
              + f" {min(t_torch) / t_ort:>20.2f}")
    print(f"best onnxruntime vs best torch: {best:,.0f} vs {best_torch:,.0f} rows/s = {best / best_torch:.2f}× (target ≥ 1.3×)")
    bulk = bulk_rows_per_s(model, args.rows, args.repeat)
    print(f"bulk path (explorer.runtime.bulk, {os.cpu_count()} workers, same rows as one session): {bulk:,.0f} rows/s")
    n_frame = min(args.rows, 200_000)
    t_frame = best_of(lambda: model.sample(n_frame, seed=0), args.repeat)
    print(f"Model.sample → pandas table ({n_frame:,} rows, app path): {n_frame / t_frame:,.0f} rows/s")
    print(f"best decoded rows/s through onnxruntime: {max(best, bulk):,.0f} (target ≥ 1,000,000)")
    if args.ctgan_python:
        script = Path(__file__).with_name("ctgan_sample.py")
        out = subprocess.run([args.ctgan_python, str(script), "--rows", str(args.rows)], capture_output=True,
                             text=True, check=True).stdout.strip().splitlines()[-1]
        ctgan = json.loads(out)["rows_per_s"]
        print(f"CTGAN 0.12.1 sample(): {ctgan:,.0f} rows/s → onnxruntime is {best / ctgan:.1f}× faster")


if __name__ == "__main__":
    main()
