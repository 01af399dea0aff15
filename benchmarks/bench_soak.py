"""Soak: many users on the heavy pages for minutes, the server's memory sampled all along.

Each user is a websocket client speaking Streamlit's protocol (as in bench_load.py) that keeps opening
heavy views with fresh seeds until its round ends: 100,000-row samples, 20,000-row conditioned tables,
Diagnostics of table models (distributions, privacy) and of digit models (the judge on 5,000 samples,
Fréchet / precision / recall), the digit Condition grid judged. Every reply is checked (the page and
model asked for, no exception, no "unexpected error"). The users leave at the end of each round; the
server's resident set (VmRSS) is sampled every 50 ms for the peak and every few seconds for the curve,
and once more after each round when the departed sessions have been dropped. The goal
(docs/reliability.md, Memory): peak ≤ 1.5 GB with every committed model, and no growth from the second
round to the last.

    GAN_EXPLORER_DATA=/path/to/data python -m benchmarks.bench_soak    # 20 users, 10 minutes, 5 rounds
    python -m benchmarks.bench_soak --users 20 --minutes 4 --rounds 4 --out soak.json
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
    rng = random.Random(index)
    try:
        async with connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=120) as ws:
            session = Session(ws)
            while time.monotonic() < until:
                page, model, params = rng.choice(views)
                query = urlencode({"model": model, **params, "seed": rng.randrange(1_000_000)})
                seconds, elements = await session.rerun(page, query, timeout=600)
                check_page(elements, page.title(), model)
                visits.append((page, seconds))
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
         think: tuple[float, float]) -> dict:
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    before = memory_mb(pid)["VmRSS"]
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
    per_page = {}
    for page, seconds in visits:
        per_page.setdefault(page, []).append(seconds)
    return {
        "users": users, "minutes": minutes, "rounds": rounds, "visits": len(visits), "errors": errors,
        "visits_per_page": {p: len(s) for p, s in per_page.items()},
        "median_s_per_page": {p: round(sorted(s)[len(s) // 2], 2) for p, s in per_page.items()},
        "rss_before_mb": round(before, 1), "rss_peak_mb": round(max(watch.peak, *after), 1),
        "rss_after_round_mb": after, "cache_data_mb_after_round": [round(sum(c.values()), 1) for c in caches],
        "cache_data_mb_at_end": caches[-1] if caches else {}, "growth_second_to_last_mb": round(after[-1] - after[1], 1) if rounds > 1 else None,
        "vm_hwm_mb": round(memory_mb(pid)["VmHWM"], 1), "rss_curve": curve.points, "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="the users leave and new ones come this many times")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--models", type=Path, default=ROOT / "exported")
    parser.add_argument("--out", type=Path, help="also write the result (with the RSS curve) here as JSON")
    parser.add_argument("--log", type=Path, help="keep the server's log here (errors carry a reference id into it)")
    args = parser.parse_args(argv)
    views = heavy_views(args.models)
    port = free_port()
    env = {"MALLOC_ARENA_MAX": "2", **os.environ,  # as in the demo container (Dockerfile)
           "GAN_EXPLORER_MODELS": str(args.models.resolve())}
    with tempfile.TemporaryDirectory() as tmp:
        log = args.log or Path(tmp) / "server.log"
        with serve(streamlit_command(sys.executable, port), port, ROOT, env, log) as (base, proc):
            result = soak(base, proc.pid, views, args.users, args.minutes, args.rounds, tuple(args.think))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rss_curve"}, indent=1))
    print(f"{args.users} users × {args.minutes:g} min ({result['visits']} heavy views, {len(result['errors'])} errors): "
          f"RSS {result['rss_before_mb']} MB before, peak {result['rss_peak_mb']} MB (goal ≤ 1,500), after each "
          f"round {result['rss_after_round_mb']} MB (st.cache_data: {result['cache_data_mb_after_round']} MB)")
    return result


if __name__ == "__main__":
    main()
