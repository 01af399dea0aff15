"""Start ``streamlit run`` on a free loopback port and wait for its health check; read its memory.

Shared by the load benchmark, the load, browser and container tests, and the screenshot script.
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


class ServerFailed(RuntimeError):
    """The server exited or did not answer /_stcore/health in time; the message holds its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(base: str) -> bool:
    try:
        return urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read().strip() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def serve(command: list[str], port: int, cwd: Path, env: dict, log: Path, timeout: float = 90, **popen):
    """Run ``command`` (which must listen on ``port``), yield (base URL, process) once healthy, then stop it."""
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, **popen)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not healthy(base):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ServerFailed(f"{' '.join(command)} did not become healthy on {base}:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process from /proc: current (VmRSS) and peak (VmHWM), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields
