"""Many concurrent users on one ``streamlit run`` server: interaction latency and server memory.

Each simulated user is a websocket client speaking Streamlit's own protocol (the BackMsg /
ForwardMsg protobufs the browser sends and receives on ``/_stcore/stream``), so the server does
exactly the work a browser session causes, without 20 browsers competing for the CPU. A user
opens the Sample page on a model (a table or a digit generator), then alternately types a new seed
into the Seed box (a widget change: the rows or digits are sampled anew, never from the cache) and
follows a link to another model (``sample?model=…``, or ``condition?model=…`` for a table with
classes), with a think time between clicks. Every reply is checked (the caption names the new seed,
the select box shows the new model, no exception).

Latency of an interaction = from sending the message to the server's ``script_finished``: the
whole script rerun and every element sent, as the browser sees it less its own drawing.
Memory: the server's resident set (/proc/<pid>/status VmRSS, sampled every 50 ms, and VmHWM)
before the users arrive, at the peak, and after each round of users has left (the server drops a
disconnected session after SESSION_TTL seconds); a second round shows whether memory grows with
sessions that have come and gone.

    python -m benchmarks.bench_load                       # 20 users × 10 clicks, 2 rounds, exported/
    python -m benchmarks.bench_load --sessions 5 --interactions 4 --think 0.5 1.5 --models /tmp/m
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
from pathlib import Path

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
from explorer.app.server import free_port, memory_mb, serve  # noqa: E402
from explorer.contract import Card


SESSION_TTL = 3  # seconds a disconnected session is kept (Streamlit's default is 120)


class Session:
    """One user's websocket: rerun a page with a query string and widget values, collect the elements."""

    def __init__(self, ws):
        self.ws = ws

    async def rerun(self, page: str, query: str, widgets: dict[str, int] | None = None, timeout: float = 120):
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        for widget_id, value in (widgets or {}).items():
            state = msg.rerun_script.widget_states.widgets.add()
            state.id, state.int_value = widget_id, value
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        elements = []
        async with asyncio.timeout(timeout):
            while True:
                reply = ForwardMsg()
                reply.ParseFromString(await self.ws.recv())
                kind = reply.WhichOneof("type")
                if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                    element = reply.delta.new_element
                    elements.append((element.WhichOneof("type"), element))
                elif kind == "script_finished" and reply.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    if reply.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                        raise AssertionError(f"{page}?{query}: script ended with status {reply.script_finished}")
                    return time.perf_counter() - start, elements


def check_page(elements, page: str, model: str, seed: int | None = None) -> str:
    """The id of the Seed box (Sample page); raises when the reply is not the page asked for."""
    kinds = [k for k, _ in elements]
    problems = [e.exception.message for k, e in elements if k == "exception"]
    problems += [e.alert.body for k, e in elements if k == "alert" and "unexpected error" in e.alert.body]
    if problems:
        raise AssertionError(f"{page} {model}: {problems}")
    select = next((e.selectbox for k, e in elements if k == "selectbox"), None)
    if select is None or not select.options[select.default].endswith(f"({model})"):
        raise AssertionError(f"{page}: expected model {model}, got {select and list(select.options)} {kinds}")
    if seed is not None:
        captions = [e.markdown.body for k, e in elements if k == "markdown"]
        captions += [img.caption for k, e in elements if k == "imgs" for img in e.imgs.imgs]  # a digit grid
        if not any(f"with seed {seed}." in c or c.endswith(f", seed {seed}") for c in captions):
            raise AssertionError(f"{page} {model}: no caption for seed {seed} in {captions}")
    boxes = [e.number_input for k, e in elements if k == "number_input" and e.number_input.label == "Seed"]
    return boxes[0].id if boxes else ""


async def user(url: str, index: int, models: list[str], conditional: list[str], interactions: int,
               think: tuple[float, float], latencies: list, errors: list) -> None:
    rng = random.Random(index)
    model = models[index % len(models)]
    try:
        async with connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=60) as ws:
            session = Session(ws)
            seconds, elements = await session.rerun("sample", f"model={model}")
            latencies.append(("open", seconds))
            seed_box = check_page(elements, "Sample", model)
            for step in range(interactions):
                await asyncio.sleep(rng.uniform(*think))
                if step % 2 == 0:  # a new seed: fresh rows, never a cache hit
                    seed = 100_000 + 1000 * index + step
                    seconds, elements = await session.rerun("sample", f"model={model}", {seed_box: seed})
                    check_page(elements, "Sample", model, seed)
                    latencies.append(("seed", seconds))
                else:  # another model, on Sample or (conditional models) Condition
                    model = models[(models.index(model) + 1 + rng.randrange(len(models) - 1 or 1)) % len(models)]
                    page = "condition" if model in conditional and rng.random() < 0.5 else "sample"
                    seconds, elements = await session.rerun(page, f"model={model}")
                    found = check_page(elements, page.title(), model)
                    seed_box = found or seed_box
                    if page == "condition":  # back to Sample for the next seed change
                        seconds_back, elements = await session.rerun("sample", f"model={model}")
                        seed_box = check_page(elements, "Sample", model)
                        latencies.append(("switch", seconds_back))
                    latencies.append(("switch", seconds))
    except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
        errors.append(f"user {index}: {type(exc).__name__}: {exc}")


class MemoryWatch(threading.Thread):
    """Samples a process's VmRSS every 50 ms and keeps the maximum and when it was reached (monotonic seconds)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.when, self.running = pid, 0.0, time.monotonic(), True

    def run(self):
        while self.running:
            try:
                rss = memory_mb(self.pid)["VmRSS"]
            except (OSError, KeyError):
                return
            if rss > self.peak:
                self.peak, self.when = rss, time.monotonic()
            time.sleep(0.05)


def measure(base: str, pid: int, models: list[str], conditional: list[str], sessions: int = 20,
            interactions: int = 10, think: tuple[float, float] = (1.0, 3.0), rounds: int = 2) -> dict:
    """Warm the server with one user, then ``rounds`` × ``sessions`` concurrent users; latencies and memory."""
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    warm_latencies, warm_errors = [], []
    asyncio.run(user(url, 0, models, conditional, 2 * len(models), (0, 0), warm_latencies, warm_errors))
    if warm_errors:
        raise AssertionError(warm_errors)
    watch = MemoryWatch(pid)
    watch.start()
    before = memory_mb(pid)["VmRSS"]
    latencies, errors, after, wall = [], [], [], []

    async def crowd():
        await asyncio.gather(*(user(url, i + 1, models, conditional, interactions, think, latencies, errors)
                               for i in range(sessions)))

    for _ in range(rounds):
        start = time.perf_counter()
        asyncio.run(crowd())
        wall.append(time.perf_counter() - start)
        time.sleep(SESSION_TTL + 2)  # the users have left: their sessions are dropped after the TTL
        after.append(memory_mb(pid)["VmRSS"])
    watch.running = False
    watch.join()
    clicks = np.array([s for kind, s in latencies if kind != "open"])
    opens = np.array([s for kind, s in latencies if kind == "open"])
    pct = lambda a, q: round(float(np.percentile(a, q)), 3) if len(a) else float("nan")  # noqa: E731
    return {
        "sessions": sessions, "rounds": rounds, "interactions": int(len(clicks)), "errors": errors,
        "p50_s": pct(clicks, 50), "p95_s": pct(clicks, 95), "max_s": round(float(clicks.max()), 3) if len(clicks) else None,
        "open_p50_s": pct(opens, 50), "open_p95_s": pct(opens, 95),
        **{f"{kind}_p50_p95_s": [pct(a, 50), pct(a, 95)] for kind in ("seed", "switch")
           for a in [np.array([s for k, s in latencies if k == kind])]},
        "seconds_per_round": [round(w, 1) for w in wall],
        "rss_before_mb": round(before, 1), "rss_peak_mb": round(max(watch.peak, *after), 1),
        "rss_after_round_mb": [round(a, 1) for a in after], "vm_hwm_mb": round(memory_mb(pid)["VmHWM"], 1),
        "load_average": os.getloadavg(),
    }


def model_ids(root: Path) -> tuple[list[str], list[str]]:
    """(every model the Sample page serves: tables and digit generators, the tabular ones with classes,
    whose users also visit the Condition page)."""
    cards = {p.parent.name: Card.from_json(p.read_text()) for p in sorted(root.glob("*/card.json"))}
    served = [i for i, c in cards.items() if c.kind in ("tabular", "image")]
    return served, [i for i in served if cards[i].tabular and cards[i].classes]


def streamlit_command(python: str, port: int) -> list[str]:
    return [python, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
            "--server.disconnectedSessionTTL", str(SESSION_TTL)]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--interactions", type=int, default=10, help="clicks per user after opening the page")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                        help="seconds a user waits between clicks (uniform)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", type=Path, default=ROOT / "exported")
    args = parser.parse_args(argv)
    models, conditional = model_ids(args.models)
    port = free_port()
    env = {**os.environ, "GAN_EXPLORER_MODELS": str(args.models.resolve())}
    with tempfile.TemporaryDirectory() as tmp:
        with serve(streamlit_command(sys.executable, port), port, ROOT, env, Path(tmp) / "server.log") as (base, proc):
            result = measure(base, proc.pid, models, conditional, args.sessions, args.interactions,
                             tuple(args.think), args.rounds)
    print(json.dumps(result, indent=1))
    print(f"{args.sessions} users × {args.interactions} clicks × {args.rounds} rounds: p50 {result['p50_s']} s, "
          f"p95 {result['p95_s']} s (goal < 1 s), peak RSS {result['rss_peak_mb']} MB, errors {len(result['errors'])}")
    return result


if __name__ == "__main__":
    main()
