"""At most HEAVY_SLOTS heavy computations (a cache miss that samples, judges or measures) run at once.

The server has few cores: twenty concurrent Diagnostics runs finish no sooner than two at a time, but each
holds its working memory, so the peak grew with the number of users (3.6 GB in the soak). The gate is
re-entrant per thread and wraps only leaf work that calls no cached function, so a thread holding a slot
never waits on a cache entry another thread is filling (no deadlock with Streamlit's per-key locks).
A semaphore that a thread may re-enter is not in the standard library, hence these few lines.
When a computation ends, the heap its temporaries leave free goes back to the OS (``trim_heap``), so the
next ones start from the memory actually in use rather than from what the allocator kept.
"""
from __future__ import annotations

import contextlib
import os
import threading

from explorer.app.gc_tuning import TRIM_AFTER_HEAVY, trim_heap

HEAVY_SLOTS = max(2, min(4, os.cpu_count() or 2))
_slots = threading.BoundedSemaphore(HEAVY_SLOTS)
_depth = threading.local()


@contextlib.contextmanager
def heavy():
    depth = getattr(_depth, "value", 0)
    if depth == 0:
        _slots.acquire()
    _depth.value = depth + 1
    try:
        yield
    finally:
        _depth.value = depth
        if depth == 0:
            _slots.release()
            trim_heap(TRIM_AFTER_HEAVY)
