"""The bulk decoding path (explorer/runtime/bulk.py): one single-threaded session run from a thread per core
must give exactly the rows of one session, int8 generators included (they quantise per run)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.runtime import models
from explorer.runtime.bulk import CHUNK, BulkDecoder
from explorer.runtime.models import BATCH, Model

N = 2 * CHUNK + BATCH // 2 + 5  # two full chunks, a ragged last run


@pytest.mark.parametrize("model_id", ["adult-cgan-balanced-pairs-int8", "adult-gan", "diabetes-cgan"])
def test_bulk_rows_are_the_rows_of_one_session(model_id):
    model = Model.load(model_id)
    with BulkDecoder(model, workers=2) as bulk:
        numeric, categorical, codes = bulk.sample(N, seed=5, mix=None)
    expected_codes = model.label_codes(N, 5) if model.classes else None
    assert (codes is None and expected_codes is None) or np.array_equal(codes, expected_codes)
    ref = model.decode(model.noise(N, 5), codes)
    assert np.array_equal(numeric, ref[0], equal_nan=True) and np.array_equal(categorical, ref[1])
    assert pd.DataFrame(model.table(numeric, categorical, codes)).equals(model.sample(N, seed=5))


def test_int8_rows_depend_on_where_runs_start_so_every_path_runs_the_same_batches(monkeypatch):
    """Why BATCH is shared: the same latents decoded in runs that start elsewhere give other int8 rows."""
    model = Model.load("adult-cgan-balanced-pairs-int8")
    z, codes = model.noise(2 * BATCH, 1), model.label_codes(2 * BATCH, 1)
    together = model.decode(z, codes)
    monkeypatch.setattr(models, "BATCH", BATCH // 2)
    halves = model.decode(z, codes)
    assert not np.array_equal(together[1], halves[1])
    monkeypatch.undo()
    with BulkDecoder(model) as bulk:
        assert np.array_equal(bulk.decode(z, codes)[1], together[1])


def test_stream_keeps_the_chunks_in_order():
    model = Model.load("adult-cgan")
    rng = np.random.default_rng(0)
    chunks = [(rng.standard_normal((n, model.latent_dim), dtype=np.float32), model.label_codes(n, n)) for n in (5, BATCH + 3, 1)]
    with BulkDecoder(model) as bulk:
        out = list(bulk.stream(iter(chunks)))
    assert [len(n) for n, _ in out] == [5, BATCH + 3, 1]
    for (z, codes), (numeric, categorical) in zip(chunks, out):
        ref = model.decode(z, codes)
        assert np.array_equal(numeric, ref[0]) and np.array_equal(categorical, ref[1])


def test_bulk_refuses_what_it_cannot_decode():
    with pytest.raises(ValueError, match="not a tabular model"):
        BulkDecoder(Model.load("mnist-latent-gan"))
    with BulkDecoder(Model.load("diabetes-confgan")) as bulk, pytest.raises(ValueError, match="Model.sample"):
        bulk.sample(10)
    with BulkDecoder(Model.load("adult-cgan")) as bulk:
        numeric, categorical, codes = bulk.sample(0)
        assert len(numeric) == len(categorical) == len(codes) == 0
