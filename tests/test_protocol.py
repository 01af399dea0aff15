"""The field's protocol (explorer.metrics.protocol) on real Adult rows, small samples so it stays fast."""
import numpy as np
import pandas as pd
import pytest

from explorer.metrics import protocol as pr


@pytest.fixture(scope="module")
def parts(adult):
    train = adult.train.sample(3000, random_state=0)
    other = adult.train.drop(train.index).sample(3000, random_state=1).reset_index(drop=True)
    train = train.reset_index(drop=True)
    rng = np.random.default_rng(0)
    shuffled = pd.DataFrame({c: train[c].to_numpy()[rng.permutation(len(train))] for c in train.columns})
    return train, other, shuffled


def test_trend_sees_lost_joint_structure_that_shape_misses(adult, parts):
    train, other, shuffled = parts
    assert pr.shape(train, shuffled, adult.numeric) == pytest.approx(1.0)  # same marginals exactly
    real = pr.trend(train, other, adult.numeric)
    assert real > 0.94 and pr.trend(train, shuffled, adult.numeric) < real - 0.02
    pairs = pr.trend_details(train, shuffled, adult.numeric)
    assert len(pairs) == 15 * 14 // 2  # every pair counts, not only strongly associated ones


@pytest.mark.slow  # three 3-fold detectors
def test_detectors_cannot_tell_identical_tables_and_xgboost_sees_shuffled_columns(adult, parts):
    train, _, shuffled = parts
    assert pr.c2st_lr(train, train.copy(), adult.numeric) == pytest.approx(0.5, abs=0.02)
    assert pr.c2st_xgb(train, train.copy(), adult.numeric) == pytest.approx(0.5, abs=0.02)
    assert pr.c2st_xgb(train, shuffled, adult.numeric) > 0.9


def test_mle_of_real_rows_beats_shuffled_rows(adult, parts):
    train, _, shuffled = parts
    test = adult.holdout.sample(3000, random_state=0)
    real = pr.mle(train, test, adult.target, adult.categories)
    assert real > 0.88 and pr.mle(shuffled, test, adult.target, adult.categories) < 0.6


def test_dcr_share_flags_copies_and_not_fresh_rows(adult, parts):
    train, other, _ = parts
    holdout = adult.holdout.sample(3000, random_state=0)
    copies = train.sample(500, random_state=2)
    assert pr.dcr_share(copies, train, holdout, adult.numeric, adult.categories) > 0.95
    fresh = other.sample(500, random_state=2)
    assert 0.4 < pr.dcr_share(fresh, train, holdout, adult.numeric, adult.categories) < 0.6


def test_nearest_l1_matches_a_direct_computation(adult, parts):
    train, other, _ = parts
    q, r = other.head(50), train.head(300)
    ranges = train[adult.numeric].max() - train[adult.numeric].min()
    got = pr.nearest_l1(q, r, adult.numeric, adult.categories, ranges, chunk=7)
    num = np.abs(q[adult.numeric].to_numpy(float)[:, None] / ranges.to_numpy()
                 - r[adult.numeric].to_numpy(float)[None] / ranges.to_numpy()).sum(2)
    cats = [c for c in train.columns if c not in adult.numeric]
    mismatch = (q[cats].to_numpy()[:, None] != r[cats].to_numpy()[None]).sum(2)
    assert np.allclose(got, (num + 2 * mismatch).min(1))


def test_privacy_flags_copied_rows_and_not_fresh_ones(adult, parts):
    train, other, _ = parts
    holdout = adult.holdout.sample(1500, random_state=0)
    copies = pr.privacy(train.sample(800, random_state=3), train, holdout, adult.numeric, adult.categories, rows=800)
    fresh = pr.privacy(other.sample(800, random_state=3), train, holdout, adult.numeric, adult.categories, rows=800)
    assert copies["exact_match_rate"] == 1.0 and copies["nndr"] == 0.0
    assert fresh["exact_match_rate"] < 0.1 and fresh["nndr"] > 0.3
    assert copies["membership_auc"] > fresh["membership_auc"] + 0.1
    assert 0.4 < fresh["membership_auc"] < 0.6


def test_worst_pairs_are_the_lowest_scores(adult, parts):
    train, _, shuffled = parts
    worst = pr.worst_pairs(pr.trend_details(train, shuffled, adult.numeric), n=3)
    assert len(worst) == 3 and worst["Score"].is_monotonic_increasing
    assert worst["Score"].iloc[0] == pr.trend_details(train, shuffled, adult.numeric)["Score"].min()


def test_detectors_score_a_synthetic_category_the_real_rows_lack():
    """SDMetrics raised 'Found unknown categories' on it (a generator of credit-g drew its declared,
    never-seen 'vacation'); such rows are encoded as no known category, which the detectors see."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=400), "c": rng.choice(["a", "b"], 400)})
    synth = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    synth["c"] = "never"
    assert pr.c2st_lr(real, synth, ["x"]) > 0.9
    assert pr.c2st_xgb(real, synth, ["x"]) > 0.9


@pytest.mark.slow
def test_peer_protocol_averages_each_model_over_its_draws():
    """``--samples 2``: a model's row is the mean of its scores on sample seeds 0 and 1."""
    from benchmarks.peer_protocol import main, measure
    from explorer.data.tables import load_table
    from explorer.runtime.models import DEFAULT_ROOT
    frame = main(["--dataset", "diabetes", "--models", "diabetes-cgan", "--no-reference", "--samples", "2"])
    row = frame[frame["family"] == "diabetes-cgan"].iloc[0]
    t = load_table("diabetes")
    draws = [measure(DEFAULT_ROOT / "diabetes-cgan", t, seed) for seed in (0, 1)]
    assert row["samples"] == 2
    for metric in ("shape", "trend", "c2st_xgb", "mle", "dcr_share"):
        assert row[metric] == pytest.approx((draws[0][metric] + draws[1][metric]) / 2)
    assert draws[0]["c2st_xgb"] != draws[1]["c2st_xgb"]  # two draws, not one draw twice
