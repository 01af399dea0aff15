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


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty data folder and a network that refuses: the real OpenML download fails at once
    (every request goes to a proxy on a closed local port)."""
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.mark.slow  # 3-5 s: keeps the fast lane under 2 minutes
def test_missing_file_is_one_message_naming_the_variable_and_leaves_no_folders(offline):
    with pytest.raises(DataUnavailable) as info:
        load_table("diabetes")
    message = str(info.value)
    assert DATA_ENV in message and "diabetes.arff" in message and "OpenML dataset 37" in message
    assert "\n" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained traceback
    assert list(offline.iterdir()) == []  # no empty openml/ cache folders


@pytest.mark.slow  # 3-5 s: keeps the fast lane under 2 minutes
def test_training_cli_reports_a_missing_dataset_in_one_line(offline, capsys):
    from training.run import main
    with pytest.raises(SystemExit) as exit_:
        main(["--dataset", "diabetes", "--quick", "--out", str(offline / "out")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error: diabetes.arff not found" in err and DATA_ENV in err
    assert list(offline.iterdir()) == []


@pytest.mark.slow  # 3-5 s: keeps the fast lane under 2 minutes
def test_a_failed_download_is_not_retried_in_the_same_process_but_a_file_put_there_is_found(tmp_path, monkeypatch):
    """Offline, each visit to a data page used to wait for the same failed download; a local proxy that
    counts the connections it refuses shows the second load does not try again."""
    import os
    import shutil
    import socket
    import threading
    import time
    import urllib.request
    from pathlib import Path

    real = Path(os.environ[DATA_ENV]) / "diabetes.arff"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    attempts = []

    def refuse():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            attempts.append(1)
            conn.close()

    threading.Thread(target=refuse, daemon=True).start()
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{server.getsockname()[1]}")
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    urllib.request.install_opener(None)  # urlopen reads the proxy variables when it builds its opener
    try:
        with pytest.raises(DataUnavailable) as first:
            load_table("diabetes")
        for _ in range(50):  # the proxy thread counts after the client has already failed
            if attempts:
                break
            time.sleep(0.05)
        tried = len(attempts)
        assert tried >= 1, str(first.value)
        with pytest.raises(DataUnavailable) as second:
            load_table("diabetes")
        assert len(attempts) == tried and str(second.value) == str(first.value)
    finally:
        server.close()
        urllib.request.install_opener(None)
    shutil.copy(real, tmp_path / "diabetes.arff")
    assert len(load_table("diabetes").train) > 0
