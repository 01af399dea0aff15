"""Bulk generation speed and memory: rows/s and peak RSS of `python -m explorer.generate`, local and on Ray.

Each configuration runs the real CLI in a fresh process into a temporary folder (deleted after).
Peak RSS: the driver's own peak (the kernel's ru_maxrss from wait4, exact) and, for Ray, every
process of the tree the driver started (gcs, raylet, workers) sampled every 0.2 s from
/proc/<pid>/status VmHWM (each process's own peak): the largest worker and the sum over the tree
(an upper bound: shared libraries and Ray's shared-memory store count once per process). A
smaller local run shows that memory does not grow with --rows. Linux only (/proc).

    python -m benchmarks.bench_generate --model adult-cgan --rows 10000000 [--no-ray]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree_hwm(root_pid: int) -> dict[int, tuple[str, int]]:
    """{pid: (name, VmHWM bytes)} for root_pid and all its descendants now alive."""
    children: dict[int, list[int]] = {}
    info: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(status["PPid"]), []).append(pid)
        hwm = int(status.get("VmHWM", "0 kB").split()[0]) * 1024
        info[pid] = (status["Name"].strip(), hwm)
    found, stack = {}, [root_pid]
    while stack:
        pid = stack.pop()
        if pid in info:
            found[pid] = info[pid]
        stack.extend(children.get(pid, []))
    return found


def run(model: str, rows: int, shard_rows: int, ray: bool) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    cmd = [sys.executable, "-m", "explorer.generate", "--model", model, "--rows", str(rows), "--shard-rows",
           str(shard_rows), "--out", str(out / "synth"), "--quiet"] + (["--ray"] if ray else [])
    peaks: dict[int, tuple[str, int]] = {}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            for p, (name, hwm) in tree_hwm(proc.pid).items():
                if hwm >= peaks.get(p, ("", 0))[1]:
                    peaks[p] = (name, hwm)
            time.sleep(0.2)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
        manifest = json.loads((out / "synth" / "manifest.json").read_text())
        size = sum(f.stat().st_size for f in (out / "synth").glob("*.parquet"))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    workers = [hwm for name, hwm in peaks.values() if name.startswith("ray::")]  # Ray names its worker processes ray::…
    run_s, start_s = manifest["last_run"]["seconds"], manifest["last_run"]["ray_start_seconds"]
    return {"backend": "ray" if ray else "local", "rows": rows, "wall_s": wall,
            "rows_per_s": rows / wall, "rows_per_s_after_start": rows / (run_s - start_s), "ray_start_s": start_s,
            # wait4's ru_maxrss also covers reaped descendants (Ray's raylet and workers): the driver's own
            # sampled VmHWM under Ray, the exact kernel figure when it runs alone
            "driver_peak_mb": (peaks.get(proc.pid, ("", 0))[1] / 2**20) if ray else usage.ru_maxrss / 1024,
            "worker_peak_mb": max(workers, default=0) / 2**20, "n_workers": len(workers),
            "tree_peak_sum_mb": sum(h for _, h in peaks.values()) / 2**20,
            "parquet_mb": size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="adult-cgan")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--small-rows", type=int, default=1_000_000, help="a smaller local run: memory must not grow")
    parser.add_argument("--shard-rows", type=int, default=1_000_000)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    with open("/proc/loadavg") as f:
        print(f"cores {len(os.sched_getaffinity(0))}, load average before: {f.read().split()[0]}")
    results = [run(args.model, args.small_rows, args.shard_rows, False), run(args.model, args.rows, args.shard_rows, False)]
    if not args.no_ray:
        results.append(run(args.model, args.rows, args.shard_rows, True))
    print("| backend | rows | wall s | rows/s | rows/s after Ray start | driver peak RSS MB | largest worker MB | "
          "tree Σ peaks MB | Parquet MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if r["backend"] == "ray":
            name = f"ray ({r['n_workers']} worker processes)"
            after = f"{r['rows_per_s_after_start']:,.0f} (start {r['ray_start_s']:.1f} s)"
            worker, tree = f"{r['worker_peak_mb']:.0f}", f"{r['tree_peak_sum_mb']:.0f}"
        else:
            name, after, worker, tree = "local", "–", "–", "–"
        print(f"| {name} | {r['rows']:,} | {r['wall_s']:.1f} | {r['rows_per_s']:,.0f} | {after} | "
              f"{r['driver_peak_mb']:.0f} | {worker} | {tree} | {r['parquet_mb']:.0f} |")
    small, big = results[0], results[1]
    print(f"local peak RSS {small['rows']:,} → {big['rows']:,} rows: {small['driver_peak_mb']:.0f} → "
          f"{big['driver_peak_mb']:.0f} MB (ratio {big['driver_peak_mb'] / small['driver_peak_mb']:.2f})")
    if len(results) > 2:
        print(f"Ray / local rows/s: {results[2]['rows_per_s'] / big['rows_per_s']:.2f} wall-clock, "
              f"{results[2]['rows_per_s_after_start'] / big['rows_per_s']:.2f} after Ray's start")
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[0]}")


if __name__ == "__main__":
    main()
