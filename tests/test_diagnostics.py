import numpy as np
import pandas as pd
import pytest

from explorer.metrics import diagnostics as dg


@pytest.mark.slow
def test_real_against_real_is_undetectable(adult):
    a = adult.train.sample(3000, random_state=0)
    b = adult.holdout.sample(3000, random_state=0)
    assert dg.detection_auc_lr(a, b, adult.numeric) < 0.56
    assert dg.detection_auc_rf(a, b, adult.numeric) < 0.6
    assert dg.fidelity(a, b, adult.numeric)["complement"].mean() > 0.97
    assert dg.correlation_similarity(a, b, adult.numeric) > 0.95


@pytest.mark.slow
def test_broken_rows_are_detected(adult):
    a = adult.holdout.sample(3000, random_state=0)
    b = adult.train.sample(3000, random_state=1).copy()
    b["age"] = b["age"].sample(frac=1, random_state=0).to_numpy() + 15  # shifted marginal
    b["sex"] = "Female"
    det = dg.detection(a, b, adult.numeric, "rf")
    assert det["auc"] > 0.95
    assert set(det["importance"].index[:2]) == {"age", "sex"}  # names what gives it away
    assert dg.detection_auc_lr(a, b, adult.numeric) > 0.9


def test_efficacy_of_real_data_is_one(diabetes):
    eff = dg.efficacy(diabetes.train, diabetes.train, diabetes.holdout, diabetes.target, diabetes.numeric)
    assert eff["ratio"] == pytest.approx(1.0) and eff["real_auc"] > 0.75


def test_copies_are_counted_and_close(diabetes):
    copies = diabetes.train.sample(100, random_state=0)
    assert dg.exact_copy_rate(diabetes.train, copies) == 1.0
    dcr = dg.distance_to_closest(diabetes.train, copies, diabetes.holdout, diabetes.numeric)
    assert dcr["median_synthetic"] == 0 and dcr["median_holdout"] > 0


def test_fooled_rate_bounds():
    real = np.arange(100.0)
    assert dg.fooled_rate(real, real - 1000) == 0 and dg.fooled_rate(real, real + 1000) == 1


def test_fidelity_ceiling_matches_the_ks_noise_formula():
    """One continuous column: a perfect generator's mean KS is the two-sample noise, ≈ 0.87·√(1/m + 1/n)."""
    population = pd.DataFrame({"x": np.random.default_rng(0).normal(size=50_000)})
    for m, n in [(54, 5000), (600, 600)]:
        ks = 1 - dg.fidelity_ceiling(population, ["x"], m, n, draws=200, seed=1).mean()
        assert ks == pytest.approx(0.87 * np.sqrt(1 / m + 1 / n), rel=0.12)


def test_fidelity_ceiling_of_the_small_tables(diabetes):
    """Why the small tables' KS/TV bar is read against a ceiling: on a 54-row minority holdout even
    the real distribution scores far below 0.95, on the whole 154-row holdout it rarely reaches it."""
    population = pd.concat([diabetes.train, diabetes.holdout])
    whole = dg.fidelity_ceiling(population, diabetes.numeric, len(diabetes.holdout), 5000, draws=40)
    minority = population[population[diabetes.target] == diabetes.minority].drop(columns=diabetes.target)
    few = dg.fidelity_ceiling(minority, diabetes.numeric, 54, 5000, draws=40)
    assert 0.9 < whole.mean() < 0.96 and few.max() < 0.95 and few.mean() < whole.mean()
