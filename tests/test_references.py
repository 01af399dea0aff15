"""The Diagnostics page's protocol figures beside real data's own reference (explorer.metrics.pairs,
explorer.metrics.references, the gradient-boosting detector) on real Adult rows and a user's table with
gaps and dates: real-vs-real references sit at their ideal, copied training rows are caught, shuffled
columns are detected, and the app's Trend is SDMetrics' ColumnPairTrends pair by pair."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.data.user_tables import load_file
from explorer.metrics import diagnostics as dg
from explorer.metrics import pairs, references
from explorer.metrics import protocol as pr
from tests.test_own_table import shop_table


@pytest.fixture(scope="module")
def parts(adult):
    rows = adult.train.sample(9000, random_state=0).reset_index(drop=True)
    train, holdout = rows.iloc[:3000].reset_index(drop=True), rows.iloc[3000:].reset_index(drop=True)
    rng = np.random.default_rng(0)
    shuffled = pd.DataFrame({c: train[c].to_numpy()[rng.permutation(len(train))] for c in train.columns})
    return train, holdout, shuffled


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    path = tmp_path_factory.mktemp("shop") / "shop.csv"
    shop_table(1200).to_csv(path, index=False)
    return load_file(path, target="price")


@pytest.mark.slow  # SDMetrics' import and its pair loop: about 6 s
def test_pair_trends_are_sdmetrics_column_pair_trends(adult, parts, shop):
    train, holdout, shuffled = parts
    for real, synth, numeric in [(train, holdout.head(2000), adult.numeric), (train, shuffled, adult.numeric),
                                 (shop.train, shop.holdout, shop.numeric)]:  # gaps, dates as numbers, a constant
        ours = pairs.pair_trends(real, synth, numeric)
        theirs = pr.trend_details(real, synth, numeric)
        assert list(ours["Column 1"]) == list(theirs["Column 1"]) and list(ours["Metric"]) == list(theirs["Metric"])
        assert np.allclose(ours["Score"], theirs["Score"], atol=1e-12, equal_nan=True)
        assert pairs.trend(ours) == pytest.approx(pr.trend(real, synth, numeric), abs=1e-12)
    assert shop.train["income"].isna().any() and shop.train["region"].isna().any()


def test_trend_reference_is_real_data_and_shuffled_columns_fall_below_it(adult, parts):
    train, holdout, shuffled = parts
    result = references.trend(train, holdout, shuffled, adult.numeric, rows=3000)
    assert result["rows"] == (3000, 3000)
    assert result["trend_real"] > 0.94 and result["trend"] < result["trend_real"] - 0.02
    worst = references.worst_pairs(result["details"], 5)
    assert worst["Score"].is_monotonic_increasing and (worst["Real Score"] > worst["Score"]).all()
    cells = pairs.difference_long(result["details"], list(train.columns))
    assert len(cells) == 15 * 14 // 2 and np.allclose(cells["difference"], 1 - result["details"]["Score"])
    order = {c: i for i, c in enumerate(train.columns)}
    assert (cells["a"].map(order) > cells["b"].map(order)).all()  # one triangle


def test_privacy_catches_copied_training_rows_and_real_rows_sit_at_the_ideal(adult, parts):
    train, holdout, _ = parts  # holdout twice the training rows: the compared half is as large as train
    copies = references.privacy(train, holdout, train.sample(1500, random_state=1), adult.numeric, rows=1500)
    assert copies.loc["exact_match_rate", "synthetic"] == 1.0 and copies.loc["nndr", "synthetic"] == 0.0
    assert copies.loc["dcr_share", "synthetic"] > 0.95
    real = copies["real"]  # the reference: holdout rows the training rows never saw
    assert 0.4 < real["dcr_share"] < 0.6 and 0.4 < real["membership_auc"] < 0.6
    assert real["exact_match_rate"] < 0.02 and real["nndr"] > 0.3
    assert copies.loc["membership_auc", "synthetic"] > real["membership_auc"] + 0.1
    assert copies.loc["against", "real"] == 3000 and copies.loc["rows", "real"] == 1500


def test_privacy_with_gaps_matches_a_gap_with_a_gap(shop):
    holdout = shop.holdout
    train = shop.train.head(len(holdout) - len(holdout) // 2)  # as many as the holdout half compared against
    copies = train.sample(100, random_state=0)
    assert copies.isna().any().any()
    figures = references.privacy(train, holdout, copies, shop.numeric, rows=100)
    assert figures.loc["exact_match_rate", "synthetic"] == 1.0 and figures.loc["dcr_share", "synthetic"] > 0.9
    assert figures.loc["exact_match_rate", "real"] == 0.0
    (ready, *_), categories = references.distance_ready([train, copies], shop.numeric)
    assert not ready.isna().any().any() and "income" + references.GAP in categories


@pytest.mark.slow  # two 5-fold boosting runs with permutation importances: about 11 s
def test_gradient_boosting_detector_sees_shuffled_columns_and_not_real_rows(adult, parts):
    train, holdout, shuffled = parts
    real = dg.detection(train, holdout.head(3000), adult.numeric, "gb", max_rows=3000)
    fake = dg.detection(train, shuffled, adult.numeric, "gb", max_rows=3000)
    assert 0.45 < real["auc"] < 0.55 and fake["auc"] > 0.9
    top = fake["importance"].head(4).index
    # shuffling broke the joint structure: a column tied to others gives it away, a near-independent one does not
    assert {"education", "education-num", "relationship", "marital-status"} & set(top)
    assert fake["importance"]["fnlwgt"] < fake["importance"].iloc[0] / 5


def test_the_apps_protocol_figures_need_neither_sdmetrics_xgboost_nor_torch():
    """The serving image has none of them: the app's Trend, privacy and boosting detector run without."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['xgboost'] = sys.modules['sdmetrics'] = None\n"
            "from explorer.data.tables import load_table\n"
            "from explorer.metrics import references, diagnostics as dg\n"
            "t = load_table('diabetes')\n"
            "references.trend(t.train, t.holdout, t.holdout, t.numeric, 200)\n"
            "references.privacy(t.train, t.holdout, t.holdout, t.numeric, 50)\n"
            "dg.detection(t.train, t.holdout, t.numeric, 'gb', max_rows=100)\n"
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
