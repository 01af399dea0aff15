"""Keep Streamlit's garbage collection after every script run cheap.

Streamlit runs a full ``gc.collect(2)`` after each script run (the hidden option
``runner.postScriptGC``), so memory from a rerun does not wait for Python's own collector. A full
collection traverses every container object the process tracks, and once pandas, scikit-learn,
scipy, altair and onnxruntime are imported that is ~190,000 long-lived objects (modules, classes,
functions, schemas): ≈ 0.1 s of CPU with the GIL held, on every click of every user. Profiling one
user on the load benchmark put three quarters of the server's time per interaction there.

Objects that live as long as the process need not be traversed again and again: ``gc.freeze()``
moves every object tracked now into a permanent generation that collections skip. We freeze after
a script run whenever modules were imported since the last freeze (the first runs, the warm-up
thread's imports, the first visit of a page with its own imports): a handful of times per process.
Garbage is collected just before freezing, so only live objects are frozen; they are still freed
by reference counting when released (only a reference cycle among frozen objects would stay, which
is why the number of freezes per process is capped: a test process importing module after module,
AppTest runs in between, does not freeze its session objects again and again).
"""
from __future__ import annotations

import ctypes
import gc
import sys
import threading
import time

_lock = threading.Lock()
_modules_at_freeze = 0  # len(sys.modules) at the last freeze
_freezes = 0
MAX_FREEZES = 12  # a server freezes a handful of times (first pages, warm-up); later imports stay collectable


def freeze_after_imports() -> bool:
    """Collect, then freeze everything alive, if modules were imported since the last freeze.
    Returns whether it froze (cheap no-op otherwise)."""
    global _modules_at_freeze, _freezes
    if len(sys.modules) == _modules_at_freeze or _freezes >= MAX_FREEZES:
        return False
    with _lock:
        count = len(sys.modules)
        if count == _modules_at_freeze or _freezes >= MAX_FREEZES:
            return False
        gc.collect()
        gc.freeze()
        _modules_at_freeze, _freezes = count, _freezes + 1
    return True


TRIM_EVERY = 5.0  # seconds between two heap trims after script runs
TRIM_AFTER_HEAVY = 0.5  # seconds: after a heavy computation (explorer.app.gate), a trim costs 1-2 ms of CPU


def _libc():
    try:
        return ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None
    except OSError:  # not glibc (musl, macOS): nothing to trim
        return None


_LIBC = _libc()
_last_trim = 0.0


def trim_heap(every: float = TRIM_EVERY) -> bool:
    """Hand freed heap memory back to the operating system, unless a trim ran less than ``every`` seconds ago.
    glibc keeps the memory of freed large temporaries (a 100,000-row sample, a diagnostics run) in its heaps,
    so the server's resident size only ever rose with the work it had done; ``malloc_trim`` returns it. No
    library wraps this one libc call."""
    global _last_trim
    now = time.monotonic()
    if _LIBC is None or now - _last_trim < every:
        return False
    _last_trim = now
    _LIBC.malloc_trim(0)
    return True
