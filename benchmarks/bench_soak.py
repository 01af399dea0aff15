"""Soak: many users on the heavy pages for minutes, the server's memory sampled all along.

Each user is a websocket client speaking Streamlit's protocol (as in bench_load.py) that keeps opening
heavy views with fresh seeds until its round ends: 100,000-row samples, 20,000-row conditioned tables,
Diagnostics of table models (distributions, privacy) and of digit models (the judge on 5,000 samples,
Fréchet / precision / recall), the digit Condition grid judged. Every reply is checked (the page and
model asked for, no exception, no "unexpected error"). The users leave at the end of each round; the
server's resident set (VmRSS) is sampled every 50 ms for the peak and every few seconds for the curve,
and once more after each round when the departed sessions have been dropped. The goal
(docs/reliability.md, Memory): peak ≤ 1.5 GB with every committed model, and no growth from the second
round to the last. The verdict says whether both hold (growth = RSS after the last round minus after the
second, within --growth-tolerance MB), which views were in flight at the peak, and the server's CPU seconds
per heavy view (how many views fit in a run depends on the machine's load; the CPU per view barely does).
``--profile`` instead opens each view once, alone, and reports how far it raised the RSS above where it
started (its working memory, less what the allocator had free already).

    GAN_EXPLORER_DATA=/path/to/data python -m benchmarks.bench_soak    # 20 users, 10 minutes, 5 rounds
    python -m benchmarks.bench_soak --users 20 --minutes 4 --rounds 4 --out soak.json
    python -m benchmarks.bench_soak --profile                        # each heavy view alone: its RSS rise
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from websockets.asyncio.client import connect

from benchmarks.bench_load import SESSION_TTL, MemoryWatch, Session, check_page, streamlit_command
from explorer.app.server import free_port, memory_mb, serve

ROOT = Path(__file__).resolve().parent.parent


def heavy_views(root: Path) -> list[tuple[str, str, dict]]:
    """(page, model, query) templates of the heaviest views of every committed model; {seed} is filled in."""
    views = []
    for path in sorted(root.glob("*/card.json")):
        card, model = json.loads(path.read_text()), path.parent.name
        condition = (card.get("condition") or {}).get("type")
        if card.get("kind") == "image":
            views += [("diagnostics", model, {"n": 5000}),
                      ("diagnostics", model, {"n": 2000, "section": "Fréchet, precision, recall"}),
                      ("sample", model, {"n": 1000})]
            if condition == "label":
                views.append(("condition", model, {"n": 1000}))
        else:
            views += [("sample", model, {"n": 100_000}), ("diagnostics", model, {"n": 5000}),
                      ("diagnostics", model, {"n": 5000, "section": "Privacy"})]
            if condition == "label":
                views.append(("condition", model, {"n": 20_000}))
    return views


async def user(url: str, index: int, views: list, until: float, think: tuple[float, float], visits: list,
               errors: list) -> None:
    """Open random heavy views until ``until``; each visit is (page, model, query, start, end) in monotonic time."""
    rng = random.Random(index)
    try:
        async with connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=120) as ws:
            session = Session(ws)
            while time.monotonic() < until:
                page, model, params = rng.choice(views)
                query = urlencode({"model": model, **params, "seed": rng.randrange(1_000_000)})
                start = time.monotonic()
                seconds, elements = await session.rerun(page, query, timeout=600)
                check_page(elements, page.title(), model)
                visits.append((page, model, query, start, time.monotonic()))
                await asyncio.sleep(rng.uniform(*think))
    except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
        errors.append(f"user {index}: {type(exc).__name__}: {str(exc)[:300]}")


def cache_mb(base: str) -> dict[str, float]:
    """MB held by each st.cache_data cache, from Streamlit's /_stcore/metrics (public here: bench_soak runs
    streamlit_app.py; the demo's serve.py hides it)."""
    text = urllib.request.urlopen(f"{base}/_stcore/metrics", timeout=10).read().decode()
    sizes = {}
    for line in text.splitlines():
        if line.startswith("cache_memory_bytes{") and 'cache_type="st_cache_data"' in line:
            name = line.split('cache="', 1)[1].split('"', 1)[0].removeprefix("explorer.app.")
            sizes[name] = round(float(line.rsplit(" ", 1)[1]) / 2**20, 1)
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def verdict(peak: float, after: list[float], peak_goal: float, tolerance: float) -> dict:
    """The goal, spelled out: peak ≤ peak_goal MB, and the RSS after the last round at most ``tolerance`` MB above
    the RSS after the second (the first round fills the caches and the allocator's arenas)."""
    growth = round(after[-1] - after[1], 1) if len(after) > 1 else None
    return {"peak_ok": peak <= peak_goal, "growth_second_to_last_mb": growth,
            "growth_ok": None if growth is None else growth <= tolerance,
            "peak_goal_mb": peak_goal, "growth_tolerance_mb": tolerance}


class Curve(threading.Thread):
    """(seconds since start, VmRSS MB) every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 5.0):
        super().__init__(daemon=True)
        self.pid, self.every, self.points, self.running = pid, every, [], True
        self.start_time = time.monotonic()

    def run(self):
        while self.running:
            try:
                self.points.append((round(time.monotonic() - self.start_time, 1), round(memory_mb(self.pid)["VmRSS"], 1)))
            except (OSError, KeyError):
                return
            time.sleep(self.every)


def soak(base: str, pid: int, views: list, users: int, minutes: float, rounds: int,
         think: tuple[float, float], peak_goal: float = 1500, tolerance: float = 25) -> dict:
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    before, cpu_before = memory_mb(pid)["VmRSS"], cpu_seconds(pid)
    watch, curve = MemoryWatch(pid), Curve(pid)
    watch.start()
    curve.start()
    visits, errors, after, caches = [], [], [], []
    for _ in range(rounds):
        until = time.monotonic() + 60 * minutes / rounds

        async def crowd():
            await asyncio.gather(*(user(url, len(after) * users + i, views, until, think, visits, errors)
                                   for i in range(users)))

        asyncio.run(crowd())
        time.sleep(SESSION_TTL + 2)  # the users have left: their sessions are dropped after the TTL
        after.append(round(memory_mb(pid)["VmRSS"], 1))
        caches.append(cache_mb(base))
    watch.running = curve.running = False
    watch.join()
    cpu = cpu_seconds(pid) - cpu_before
    per_page = {}
    for page, model, query, start, end in visits:
        per_page.setdefault(page, []).append(end - start)
    peak = round(max(watch.peak, *after), 1)
    at_peak = sorted(" ".join([page, model, *query.rsplit("&seed=", 1)[0].split("&")[1:]])  # model=… and seed=… left out
                     for page, model, query, start, end in visits if start <= watch.when <= end)
    return {
        "users": users, "minutes": minutes, "rounds": rounds, "visits": len(visits), "errors": errors,
        "visits_per_page": {p: len(s) for p, s in per_page.items()},
        "median_s_per_page": {p: round(sorted(s)[len(s) // 2], 2) for p, s in per_page.items()},
        "rss_before_mb": round(before, 1), "rss_peak_mb": peak, **verdict(peak, after, peak_goal, tolerance),
        "in_flight_at_peak": at_peak, "server_cpu_s": round(cpu, 1),
        "server_cpu_s_per_view": round(cpu / max(len(visits), 1), 2),
        "rss_after_round_mb": after, "cache_data_mb_after_round": [round(sum(c.values()), 1) for c in caches],
        "cache_data_mb_at_end": caches[-1] if caches else {},
        "vm_hwm_mb": round(memory_mb(pid)["VmHWM"], 1), "rss_curve": curve.points, "load_average": os.getloadavg(),
    }


def profile(base: str, pid: int, views: list, passes: int = 2) -> dict:
    """Each view alone, ``passes`` times with fresh seeds (the first pass also loads models and imports): the RSS
    rise during the view above the RSS before it (peak) and after it (kept), MB, from the last pass."""
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    rises = {}

    async def visit_all(seed: int):
        async with connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=120) as ws:
            session = Session(ws)
            for page, model, params in views:
                watch = MemoryWatch(pid)
                before = watch.peak = memory_mb(pid)["VmRSS"]
                watch.start()
                start = cpu_seconds(pid)
                seconds, elements = await session.rerun(page, urlencode({"model": model, **params, "seed": seed}),
                                                        timeout=600)
                watch.running = False
                watch.join()
                check_page(elements, page.title(), model)
                label = f"{page} {model} " + " ".join(f"{k}={v}" for k, v in params.items())
                rises[label] = {"peak_rise_mb": round(watch.peak - before, 1),
                                "kept_mb": round(memory_mb(pid)["VmRSS"] - before, 1),
                                "cpu_s": round(cpu_seconds(pid) - start, 2), "wall_s": round(seconds, 2)}

    for seed in range(passes):
        asyncio.run(visit_all(1000 + seed))
    return dict(sorted(rises.items(), key=lambda kv: -kv[1]["peak_rise_mb"]))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="the users leave and new ones come this many times")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--models", type=Path, default=ROOT / "exported")
    parser.add_argument("--out", type=Path, help="also write the result (with the RSS curve) here as JSON")
    parser.add_argument("--log", type=Path, help="keep the server's log here (errors carry a reference id into it)")
    parser.add_argument("--peak-goal", type=float, default=1500, help="MB (default: 1,500)")
    parser.add_argument("--growth-tolerance", type=float, default=25,
                        help="MB the RSS after the last round may exceed the RSS after the second (default: 25)")
    parser.add_argument("--profile", action="store_true", help="open each heavy view alone instead: its RSS rise")
    args = parser.parse_args(argv)
    views = heavy_views(args.models)
    port = free_port()
    env = {"MALLOC_ARENA_MAX": "2", **os.environ,  # as in the demo container (Dockerfile)
           "GAN_EXPLORER_MODELS": str(args.models.resolve())}
    with tempfile.TemporaryDirectory() as tmp:
        log = args.log or Path(tmp) / "server.log"
        with serve(streamlit_command(sys.executable, port), port, ROOT, env, log) as (base, proc):
            if args.profile:
                result = profile(base, proc.pid, views)
            else:
                result = soak(base, proc.pid, views, args.users, args.minutes, args.rounds, tuple(args.think),
                              args.peak_goal, args.growth_tolerance)
    if args.profile:
        for label, rise in result.items():
            print(f"{rise['peak_rise_mb']:8.1f} MB peak rise {rise['kept_mb']:8.1f} MB kept {rise['cpu_s']:6.2f} s CPU  {label}")
        if args.out:
            args.out.write_text(json.dumps(result, indent=1))
        return result
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rss_curve"}, indent=1))
    print(f"{args.users} users × {args.minutes:g} min ({result['visits']} heavy views, {len(result['errors'])} errors): "
          f"RSS {result['rss_before_mb']} MB before, peak {result['rss_peak_mb']} MB (goal ≤ 1,500), after each "
          f"round {result['rss_after_round_mb']} MB (st.cache_data: {result['cache_data_mb_after_round']} MB)")
    print(f"peak {'≤' if result['peak_ok'] else '>'} {args.peak_goal:,.0f} MB: {'PASS' if result['peak_ok'] else 'FAIL'}; "
          f"growth from round 2 to round {args.rounds}: {result['growth_second_to_last_mb']} MB "
          f"(tolerance {args.growth_tolerance:g} MB): {({True: 'PASS', False: 'FAIL'}).get(result['growth_ok'], 'n/a')}; "
          f"server CPU {result['server_cpu_s_per_view']} s per heavy view")
    return result


if __name__ == "__main__":
    main()
