"""Does handing freed heap back to the OS (``malloc_trim``, as the heavy gate does after each computation) slow
sampling? ``Model.sample`` CPU time with a trim just before each call against without, the two interleaved in
one process so that other load on the machine hits both alike (CPU time, not wall time).

    python -m benchmarks.bench_trim --model credit-g-cgan --rows 100000 --calls 8
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from explorer.app.gc_tuning import _LIBC
from explorer.runtime.models import Model

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="credit-g-cgan")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=8, help="calls of each kind")
    parser.add_argument("--models", type=Path, default=ROOT / "exported")
    args = parser.parse_args(argv)
    if _LIBC is None:
        raise SystemExit("malloc_trim needs glibc (Linux)")
    model = Model.load(args.model, args.models)
    model.sample(args.rows, seed=0)  # warm: sessions, first allocations
    cpu, trims = {"trim": [], "none": []}, []
    for call in range(args.calls):
        for kind in ("none", "trim") if call % 2 else ("trim", "none"):
            if kind == "trim":
                start = time.process_time()
                _LIBC.malloc_trim(0)
                trims.append(time.process_time() - start)
            start = time.process_time()
            model.sample(args.rows, seed=call)
            cpu[kind].append(time.process_time() - start)
    result = {"model": args.model, "rows": args.rows, "calls": args.calls,
              "sample_cpu_ms_with_trim": round(1000 * statistics.median(cpu["trim"]), 1),
              "sample_cpu_ms_without": round(1000 * statistics.median(cpu["none"]), 1),
              "trim_cpu_ms": round(1000 * statistics.median(trims), 2)}
    result["ratio"] = round(result["sample_cpu_ms_with_trim"] / result["sample_cpu_ms_without"], 3)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
