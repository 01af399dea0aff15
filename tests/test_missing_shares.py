"""Missing shares matched after training: one logit shift per column with gaps, in the generator's last layer."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from training.missing_shares import match_missing_shares, missing_outputs, shift_for_share
from training.nets import Generator
from training.transforms import TableTransformer


def _table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n)),
        "y": rng.normal(size=n),
        "remark": np.where(rng.random(n) < 0.84, None, rng.choice(["a", "b", "c"], n)),
        "kind": rng.choice(["u", "v"], n),
    })


def test_shift_for_share_reaches_any_share():
    block = np.random.default_rng(0).normal(size=(10_000, 4))
    for target in (0.0, 0.05, 0.5, 0.84, 1.0):
        shift = shift_for_share(block, 2, target)
        shifted = block.copy()
        shifted[:, 2] += shift
        assert abs((shifted.argmax(1) == 2).mean() - target) < 1e-3


def test_untrained_generator_gets_the_real_missing_shares_and_nothing_else_moves():
    real = _table()
    tf = TableTransformer().fit(real, ["x", "y"], ["remark", "kind"])
    assert [(o.column, o.size) for o in missing_outputs(tf)] == [("remark", 4), ("x", 2)]
    torch.manual_seed(0)
    generator = Generator(8, 0, tf.dim, (16,)).eval()
    z = torch.randn(20_000, 8)
    before = generator(z).detach().numpy()

    def shares(raw: np.ndarray) -> dict[str, float]:
        return {o.column: float((raw[:, o.start:o.start + o.size].argmax(1) == o.level).mean())
                for o in missing_outputs(tf)}

    shifts = match_missing_shares(generator, tf, real, lambda: generator(z))
    after = generator(z).detach().numpy()
    wanted = {"remark": real["remark"].isna().mean(), "x": real["x"].isna().mean()}
    assert all(abs(shares(before)[c] - wanted[c]) > 0.05 for c in wanted)  # an untrained net is far off
    assert all(abs(shares(after)[c] - wanted[c]) < 0.002 for c in wanted)
    assert set(shifts) == set(wanted)
    moved = np.flatnonzero(np.abs(after - before).max(0) > 0)
    assert sorted(moved) == sorted(o.start + o.level for o in missing_outputs(tf))


def test_a_table_without_gaps_is_left_bit_identical():
    real = _table().dropna()
    tf = TableTransformer().fit(real, ["x", "y"], ["remark", "kind"])
    generator = Generator(8, 0, tf.dim, (16,))
    state = {k: v.clone() for k, v in generator.state_dict().items()}
    assert match_missing_shares(generator, tf, real, lambda: generator(torch.randn(100, 8))) == {}
    assert all(torch.equal(state[k], v) for k, v in generator.state_dict().items())
