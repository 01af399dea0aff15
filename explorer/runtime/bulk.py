"""Large requests decoded on every core at once, with the same rows as ``Model.decode``.

One onnxruntime session that runs each batch on the calling thread, called from one worker thread per
core with small batches, while the caller draws the next chunk's noise: the many small decoding
operators keep only one core busy inside a single multi-threaded run (measurements in
docs/results.md, Speed).
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from explorer.runtime.models import BATCH, Model, _session, check_interface, joined, noise_generator, read_card

CHUNK = 8 * BATCH  # rows of noise drawn at a time while the workers decode the previous one (whole runs)


def noise_chunks(rng: np.random.Generator, n: int, latent_dim: int, codes: np.ndarray | None,
                 size: int = CHUNK) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """n rows' latents drawn from ``rng`` in order, ``size`` at a time (the rows of one draw of n), each chunk
    beside its rows' class indices."""
    for start in range(0, n, size):
        yield (rng.standard_normal((min(size, n - start), latent_dim), dtype=np.float32),
               None if codes is None else codes[start:start + size])


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class BulkDecoder:
    """A model's generator on ``workers`` threads (default: one per core). Its memory arena is kept:
    its runs are small and few, and without it each run maps fresh pages."""

    def __init__(self, model: Model, workers: int | None = None):
        if not model.card.tabular:
            raise ValueError(f"{model.id} is not a tabular model")
        self.model = model
        self.workers = workers or cores()
        card = read_card(model.folder)  # the files checked against the card again, just before opening
        self.session = _session(model.folder / card.files["generator"].path, arena=True, threads=1)
        check_interface(card, "generator", self.session)
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"decode-{model.id}")

    def close(self) -> None:
        self.pool.shutdown()

    def __enter__(self) -> "BulkDecoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _submit(self, z: np.ndarray, codes: np.ndarray | None) -> list:
        return [self.pool.submit(self.session.run, None, feed) for feed in self.model.feeds(z, codes)]

    def decode(self, z: np.ndarray, codes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``Model.decode(z, codes)``, on every worker."""
        return joined([f.result() for f in self._submit(z, codes)])

    def stream(self, chunks: Iterable[tuple[np.ndarray, np.ndarray | None]]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Each (latents, class indices) chunk decoded, in order. The next chunk is taken from ``chunks``
        (drawn on the caller's thread) while the workers decode the current one."""
        pending = deque()
        for z, codes in chunks:
            pending.append(self._submit(z, codes))
            if len(pending) > 1:
                yield joined([f.result() for f in pending.popleft()])
        while pending:
            yield joined([f.result() for f in pending.popleft()])

    def sample(self, n: int, seed: int = 0,
               mix: dict[str, float] | str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The rows of ``Model.sample(n, seed, mix)`` as the raw outputs (numeric, categorical) and the
        class indices: the same noise stream, drawn chunk by chunk."""
        model = self.model
        if model.confidence_conditioned or model.instance_conditioned:
            raise ValueError(f"{model.id} is conditioned on {model.card.condition_type}: sample it with Model.sample")
        codes = model.label_codes(n, seed, mix) if model.classes else None
        chunks = noise_chunks(noise_generator(seed), n, model.latent_dim, codes)
        return (*joined(list(self.stream(chunks))), codes)
