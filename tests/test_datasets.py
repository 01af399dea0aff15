import numpy as np
import pytest

from explorer.data.tables import DATA_ENV, DataUnavailable, load_mnist, load_table


def test_adult_train_and_holdout_are_the_uci_files(adult):
    assert adult.train.shape == (32561, 15) and adult.holdout.shape == (16281, 15)
    assert set(adult.holdout["income"]) == {"<=50K", ">50K"}  # trailing "." stripped
    assert adult.minority == ">50K"
    assert (adult.train["workclass"] == "?").sum() == 1836  # missing kept visible
    assert adult.train["age"].dtype == float and adult.train["age"].min() == 17


@pytest.mark.parametrize("name,rows,minority", [("credit-g", 1000, "bad"), ("diabetes", 768, "tested_positive")])
def test_arff_tables_split_stratified_and_fixed(name, rows, minority):
    t = load_table(name)
    assert len(t.train) + len(t.holdout) == rows and len(t.holdout) == -(-rows // 5)  # sklearn rounds the test share up
    assert t.minority == minority
    share = lambda df: (df[t.target] == minority).mean()
    assert abs(share(t.train) - share(t.holdout)) < 0.01
    assert load_table(name).holdout.equals(t.holdout)  # the seeded split never moves


def test_credit_g_values_are_readable():
    t = load_table("credit-g")
    assert "critical/other existing credit" in t.categories["credit_history"]
    assert np.mean(t.train["duration"].tolist() + t.holdout["duration"].tolist()) == pytest.approx(20.903)


def test_mnist_shapes_and_labels():
    m = load_mnist()
    assert m["x_train"].shape == (60000, 28, 28) and m["x_test"].shape == (10000, 28, 28)
    assert list(m["y_train"][:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(KeyError, match="credit-g"):
        load_table("iris")


def test_missing_file_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    monkeypatch.setattr("explorer.data.tables._download", lambda name: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(DataUnavailable, match=f"{DATA_ENV}.*diabetes.arff|diabetes.arff.*{DATA_ENV}"):
        load_table("diabetes")
