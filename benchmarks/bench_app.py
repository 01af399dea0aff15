"""Server-side speed and memory of the Streamlit app, against issue 4's targets.

Each interaction is timed as one ``AppTest.run()`` — the whole script rerun the server does for
a click, without the browser's rendering. Measured:
  * cold start: a fresh Python process importing the app and rendering Home (every model loaded
    and verified, empty caches), and the time until `streamlit run` answers /_stcore/health;
  * a new 1,000-row sample (Sample page, seed changed; median of several seeds), measured after
    the app's one-off background warm-up (started when the first page is drawn) has finished;
  * first Adult diagnostics at 5,000 rows with empty caches (real data load included): once in a
    fresh process that opens Diagnostics first, and once after Home (whose background warm-up has
    imported scikit-learn); then cached; each other section's first computation (Detection: target
    2.5 s); t-SNE beside the time its button announces;
  * resident memory (RSS) with all models loaded, and after the Adult diagnostics.
Each diagnostics timing also has its CPU time (``*_cpu_s``: process_time, every thread of the process), which
other work on the machine changes far less than the wall time; the targets are wall times on 2 idle cores.

    GAN_EXPLORER_DATA=../shared/data python -m benchmarks.bench_app [--models exported/]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
TARGETS = {"sample_1000_s": 0.300, "diagnostics_first_s": 5.0, "diagnostics_first_fresh_process_s": 5.0, "diagnostics_cached_s": 0.300,
           "diagnostics_detection_first_s": 2.5, "cold_start_s": 3.0, "rss_all_models_mb": 600.0}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_child() -> None:
    """Run in a fresh process: import the app's stack and render Home; print seconds and RSS."""
    start = float(os.environ["BENCH_T0"])
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    done = time.time()
    print(json.dumps({"cold_start_s": done - start, "rss_all_models_mb": rss_mb(),
                      "models": len(at.subheader)}))


def diagnostics_child() -> None:
    """Run in a fresh process: open Diagnostics as the very first page (no warm-up yet)."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(APP, default_timeout=600)
    at.query_params.update({"model": os.environ["BENCH_MODEL"], "n": "5000"})
    at.switch_page("app_pages/diagnostics.py")
    t, cpu = time.perf_counter(), time.process_time()
    at.run()
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Diagnostics" and at.get("vega_lite_chart")
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu}))


CPU: dict[str, float] = {}  # the CPU seconds of the last timed run


def timed(at, action=None) -> float:
    """Wall seconds of one rerun; its CPU seconds (all threads) are left in CPU["last"]."""
    if action:
        action()
    t, cpu = time.perf_counter(), time.process_time()
    at.run()
    elapsed, CPU["last"] = time.perf_counter() - t, time.process_time() - cpu
    assert not at.exception, [e.value for e in at.exception]
    return elapsed


def health_time(models: Path) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", APP, "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            env={**os.environ, "GAN_EXPLORER_MODELS": str(models)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read()
                return time.time() - t
            except OSError:
                if time.time() - t > 60:
                    raise RuntimeError("streamlit did not start within 60 s") from None
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = ROOT / "exported" if any((ROOT / "exported").glob("*/card.json")) else None
    parser.add_argument("--models", type=Path, default=Path(os.environ.get("GAN_EXPLORER_MODELS", default or "")))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not any(args.models.glob("*/card.json")):
        sys.exit(f"no models in {args.models!r}: pass --models or set GAN_EXPLORER_MODELS")
    os.environ["GAN_EXPLORER_MODELS"] = str(args.models.resolve())
    os.environ.setdefault("GAN_EXPLORER_DATA", str(ROOT.parent / "shared" / "data"))
    results = {}

    # cold start: fresh interpreter → Home rendered with every model loaded
    colds = []
    for _ in range(3):
        env = {**os.environ, "BENCH_T0": repr(time.time())}
        out = subprocess.run([sys.executable, __file__, "--cold-child"], env=env, capture_output=True, text=True,
                             check=True).stdout
        colds.append(json.loads(out.strip().splitlines()[-1]))
    results["cold_start_s"] = statistics.median(c["cold_start_s"] for c in colds)
    results["rss_all_models_mb"] = max(c["rss_all_models_mb"] for c in colds)
    results["health_s"] = statistics.median(health_time(args.models) for _ in range(2))

    from streamlit.testing.v1 import AppTest

    # Sample: a new 1,000-row sample = change the seed, one rerun
    at = AppTest.from_file(APP, default_timeout=300).run()
    for thread in threading.enumerate():  # Home started the background import of the diagnostics stack
        if thread.name == "gan-explorer-warm-up":
            thread.join()
    at.switch_page("app_pages/sample.py").run()
    seed = at.number_input(key="sample:seed")
    times = [timed(at, lambda s=s: at.number_input(key="sample:seed").set_value(s)) for s in range(101, 101 + args.repeats)]
    results["sample_1000_s"] = statistics.median(times)
    assert len(at.dataframe[0].value) == 1000, seed

    # Diagnostics on Adult, 5,000 rows: empty caches first (real data load included), then cached
    adult = sorted(p.name for p in args.models.glob("adult-*") if (p / "card.json").is_file())
    if adult:
        out = subprocess.run([sys.executable, __file__, "--diagnostics-child"], capture_output=True, text=True,
                             env={**os.environ, "BENCH_MODEL": adult[0]}, check=True).stdout
        fresh = json.loads(out.strip().splitlines()[-1])
        results["diagnostics_first_fresh_process_s"] = fresh["seconds"]
        results["diagnostics_first_fresh_process_cpu_s"] = fresh["cpu_seconds"]
        import streamlit as st
        st.cache_data.clear()
        from explorer.app.state import _real_table
        _real_table.clear()  # a shared resource (not a cache_data copy): the first view loads the data again
        at = AppTest.from_file(APP, default_timeout=600)
        at.query_params.update({"model": adult[0], "n": "5000"})
        at.run()
        at.switch_page("app_pages/diagnostics.py")
        at.query_params.update({"model": adult[0], "n": "5000"})
        results["diagnostics_first_s"] = timed(at)  # Home ran earlier in this process: warm-up imports done
        results["diagnostics_first_cpu_s"] = CPU["last"]
        results["diagnostics_cached_s"] = statistics.median(timed(at) for _ in range(args.repeats))
        for section in ["Detection", "Utility", "Privacy", "Per class"]:
            key = f"diagnostics_{section.lower().replace(' ', '_')}_first"
            results[f"{key}_s"] = timed(at, lambda s=section: at.radio(key="diagnostics:section").set_value(s))
            results[f"{key}_cpu_s"] = CPU["last"]
        at.radio(key="diagnostics:section").set_value("Distributions").run()
        results["diagnostics_tsne_s"] = timed(at, lambda: at.button(key="diagnostics:tsne").click())
        results["diagnostics_tsne_cpu_s"] = CPU["last"]
        from explorer.app.diagnostics import TSNE_ROWS, tsne_seconds
        results["diagnostics_tsne_said_s"] = tsne_seconds(2 * min(5000, TSNE_ROWS))  # what its button says
        results["diagnostics_model"] = adult[0]
        results["rss_after_adult_diagnostics_mb"] = rss_mb()
    else:
        print("no adult-* model: diagnostics timing skipped")

    print(f"models: {args.models} ({len(list(args.models.glob('*/card.json')))} cards); "
          f"CPU cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}")
    print(f"{'measure':42} {'measured':>10} {'target':>8} {'ratio':>7}")
    for key, value in results.items():
        if not isinstance(value, float):
            continue
        target = TARGETS.get(key)
        unit = "MB" if key.endswith("_mb") else "s"
        ratio = f"{value / target:7.2f}" if target else "       "
        print(f"{key:42} {value:9.3f}{unit:>1} {(f'{target:g}{unit}' if target else ''):>8} {ratio}")
    print("ratio = measured / target (≤ 1 meets the target)")


if __name__ == "__main__":
    if "--cold-child" in sys.argv:
        cold_child()
    elif "--diagnostics-child" in sys.argv:
        diagnostics_child()
    else:
        main()
