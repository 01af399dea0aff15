import numpy as np
import pytest
import torch
from scipy.stats import ks_2samp

from explorer.runtime.frames import outputs_to_frame
from training.transforms import TableTransformer, jittered_logits


@pytest.fixture(scope="module")
def adult_tf(adult):
    """Adult's transformer, fitted once for the tests that only read it (a fit takes about 2.5 s)."""
    return fit(adult)


def fit(table, rows=None, **options):
    train = table.train if rows is None else table.train.sample(rows, random_state=0)
    return TableTransformer(**options).fit(train, table.numeric, table.categorical, table.categories)


def _round_trip(tf, rows):
    low, high = (torch.from_numpy(a) for a in tf.cdf_bands(rows))
    x = torch.cat([jittered_logits(low, high, torch.Generator().manual_seed(0)),
                   torch.from_numpy(tf.one_hot(rows))], 1)
    numeric, categorical = tf.decoder()(x)
    return tf, outputs_to_frame(tf.columns, numeric.numpy(), categorical.numpy())[list(rows.columns)]


def test_round_trip_on_real_adult_rows(adult, adult_tf):
    rows = adult.train.sample(3000, random_state=1).reset_index(drop=True)
    tf, back = _round_trip(adult_tf, rows)
    for col in adult.categorical:
        assert (back[col] == rows[col]).all(), col
    for col in ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]:
        assert (back[col] == rows[col]).mean() > 0.97, col  # integer columns with ties come back exactly
    assert ks_2samp(back["fnlwgt"], rows["fnlwgt"]).statistic < 0.01  # continuous: through 10,000 quantiles
    assert (back["fnlwgt"] == back["fnlwgt"].round()).all()  # integers stay integers


def test_round_trip_keeps_decimals_and_range(diabetes):
    rows = diabetes.holdout.reset_index(drop=True)
    tf, back = _round_trip(fit(diabetes), rows)
    assert (back["mass"] * 10 == (back["mass"] * 10).round()).all()
    assert (back["pedi"] * 1000 == (back["pedi"] * 1000).round()).all()
    for col in diabetes.numeric:
        assert back[col].between(diabetes.train[col].min(), diabetes.train[col].max()).all()


def test_encoder_inverts_decoder(diabetes):
    tf = fit(diabetes)
    raw = torch.randn(500, tf.dim)
    numeric, categorical = tf.decoder()(raw)
    again = tf.decoder()(tf.encoder()(numeric, categorical))
    assert torch.equal(again[1], categorical)
    assert torch.allclose(again[0], numeric, atol=0.051)  # within half a rounding step of mass (0.1)


def test_extreme_generator_outputs_stay_in_range(adult_tf):
    tf = adult_tf
    raw = torch.tensor([[-1e6] * tf.dim, [1e6] * tf.dim])
    numeric, categorical = tf.decoder()(raw[:2])
    cols = [c for c in tf.columns if c.numeric]
    for j, c in enumerate(cols):
        if c.derived_from is None:
            assert numeric[0, j] == c.min and numeric[1, j] == c.max, c.name


def test_education_num_is_derived_from_education(adult_tf):
    tf = adult_tf
    assert [d.name for d in tf.derived_] == ["education-num"] and tf.derived_[0].source == "education"
    numeric, categorical = tf.decoder()(torch.randn(2000, tf.dim))
    frame = outputs_to_frame(tf.columns, numeric.numpy(), categorical.numpy())
    assert frame.groupby("education")["education-num"].nunique().max() == 1


def test_mode_imputation_removes_missing_marker(adult):
    tf = fit(adult, rows=5000, impute="mode")  # the modes need no 10,000-quantile fit of all 32,561 rows
    assert "?" not in tf.categorical_[0].categories and tf.modes_["workclass"] == "Private"
    onehot = tf.one_hot(adult.holdout)
    assert onehot.shape[0] == len(adult.holdout) and np.allclose(onehot.sum(1), len(adult.categorical))
