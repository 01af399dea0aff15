"""Scale of the own-table path on one machine: a bulk-generated Adult table of up to 1,000,000 rows.

For each size the table is written as Parquet (rows from the committed ``adult-gan`` generator), its
schema inferred (timed), and one epoch trained through the real CLI in a child process whose peak
RSS is read from the kernel (``resource.getrusage(RUSAGE_CHILDREN)`` in a fresh wrapper per size).
The epoch time is the card's training-loop seconds (no export evaluation: ``--no-eval``).

  python -m benchmarks.own_table_scale                       # 100k, 300k and 1M rows
  python -m benchmarks.own_table_scale --sizes 1000000
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
           "print('peak_rss_kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)")


def bulk_adult(rows: int, path: Path) -> None:
    from explorer.runtime.models import Model
    Model.load("adult-gan", ROOT / "exported").sample(rows, seed=0).to_parquet(path, index=False)


def measure(rows: int, work: Path, epochs: int) -> dict:
    from explorer.data.readers import read_table
    from explorer.data.schema import infer

    path = work / f"adult-{rows}.parquet"
    if not path.exists():
        bulk_adult(rows, path)
    frame = read_table(path)
    start = time.perf_counter()
    infer(frame)
    infer_s = time.perf_counter() - start
    del frame
    command = [sys.executable, "-m", "training.run", "--data", str(path), "--target", "income", "--arch", "gan",
               "--epochs", str(epochs), "--no-eval", "--out", str(work / "models"),
               "--checkpoints", str(work / "checkpoints")]
    print("$", " ".join(command[1:]), flush=True)
    wall = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *command], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - wall
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    rss = int(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("peak_rss_kib")))
    card = json.loads((work / "models" / f"adult-{rows}-gan" / "card.json").read_text())
    loop = card["training"]["seconds"]
    train_rows = card["source"]["train_rows"]
    return {"rows": rows, "train_rows": train_rows, "schema_inference_s": round(infer_s, 2),
            "epochs": epochs, "seconds_per_epoch": round(loop / epochs, 1),
            "rows_per_s": round(train_rows * epochs / loop), "command_wall_s": round(wall, 1),
            "peak_rss_mib": round(rss / 1024)}


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--csv", type=Path, default=ROOT / "results" / "own_table_scale.csv")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="own-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.append(measure(size, work, args.epochs))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    print(table.to_markdown(index=False))
    return table


if __name__ == "__main__":
    main()
