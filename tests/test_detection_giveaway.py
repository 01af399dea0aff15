"""experiments/detection_giveaway.py: what the protocol's XGBoost detector reads in a model's rows."""
import numpy as np
import pandas as pd
import pytest

from experiments.detection_giveaway import main, most_synthetic


def test_the_levels_of_the_most_synthetic_rows_are_named():
    rng = np.random.default_rng(0)
    synth = pd.DataFrame({"country": rng.choice(["US", "Laos"], 1000, p=[0.98, 0.02]),
                          "sex": rng.choice(["F", "M"], 1000), "age": rng.integers(17, 90, 1000)})
    odds = np.where(synth["country"] == "Laos", 0.9, 0.5) + rng.normal(0, 0.01, 1000)
    table = most_synthetic(synth, odds, top=20)
    first = table.iloc[0]
    assert list(table["column"]) == ["country", "sex"] and first["level"] == "Laos"
    assert first["share among the top"] == 1.0 and first["ratio"] > 30


@pytest.mark.slow  # XGBoost on 65,122 Adult rows, per column too
def test_the_giveaway_of_the_committed_pairs_model(capsys):
    table = main(["--model", "adult-cgan-balanced-pairs", "--top", "300"])
    assert set(table.index) >= {"age", "occupation", "native-country"} and table["AUC alone"].max() < 0.53
    assert "most synthetic" in capsys.readouterr().out
