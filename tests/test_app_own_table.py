"""Every page of the app for models of a user's own table (missing values, dates, an identifier, free
text, a constant and a numeric target conditioned on ranges), trained by the real CLI in --quick mode;
the real-data views find the source file under GAN_EXPLORER_DATA, check its hash, and say where to put it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_app import open_page as app_page, texts
from tests.test_own_table import shop_table
from training.run import main

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def own(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("own-app")
    (folder / "data").mkdir()
    shop_table().to_csv(folder / "data" / "shop.csv", index=False)
    for arch in ("all", "confgan", "icgan"):
        main(["--data", str(folder / "data" / "shop.csv"), "--target", "price", "--arch", arch, "--quick",
              "--out", str(folder / "models"), "--checkpoints", str(folder / "ckpt"), "--ship-real-rows"])
    return {"models": folder / "models", "data": folder / "data", "root": folder}


@pytest.fixture
def env(own, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(own["models"]))
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(own["data"]))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    return own


def open_page(page: str | None = None, **params):
    """The page with no exception and no error shown at all (test_app.open_page allows expected errors)."""
    at = app_page(page, **params)
    assert not at.error, texts(at.error)
    return at


def test_home_lists_the_user_table_models(env):
    at = open_page()
    shown = texts(at.markdown) + " ".join(str(d.value) for d in at.dataframe)
    assert "price in 5 ranges" in shown and "range-conditioned" in shown
    previews = [d.value for d in at.dataframe if "signup" in d.value]
    assert previews and all(str(p["signup"].dtype).startswith("datetime64") for p in previews)


@pytest.mark.parametrize("model", ["shop-gan", "shop-cgan"])
def test_sample_shows_dates_nulls_and_original_types(env, model):
    at = open_page("sample", model=model, n=200, seed=3)
    rows = at.dataframe[0].value
    assert str(rows["signup"].dtype).startswith("datetime64")
    assert rows["income"].isna().any() and (rows["country"] == "NL").all()
    assert "id" not in rows and "note" not in rows


def test_condition_on_a_range_of_the_numeric_target(env):
    at = open_page("condition", model="shop-cgan", n=300)
    at.radio(key="condition:mode").set_value("One class").run()
    box = at.selectbox(key="condition:class")
    assert len(box.options) == 5 and box.options[0].startswith("7.7 – ")
    box.select(box.options[-1]).run()
    assert not at.exception and not at.error, texts(at.error)
    assert at.query_params["condition"] == box.options[-1]
    at.radio(key="condition:mode").set_value("Between two values").run()
    at.number_input(key="condition:low").set_value(100.0).run()
    at.number_input(key="condition:high").set_value(150.0).run()
    assert not at.exception and not at.error, texts(at.error)
    rows = at.dataframe[-1].value
    assert len(rows) == 200 and rows["price"].between(100, 150).all()
    at.number_input(key="condition:low").set_value(1000.0).run()
    at.number_input(key="condition:high").set_value(2000.0).run()
    assert "outside the training range" in texts(at.error)


@pytest.mark.parametrize("model", ["shop-confgan", "shop-icgan"])
def test_condition_on_confidence_or_a_real_row_with_gaps_and_dates(env, model):
    at = open_page("condition", model=model, n=200)
    assert at.dataframe, "no rows shown"


def test_interpolate_user_table(env):
    at = open_page("interpolate", model="shop-gan")
    assert at.dataframe or at.get("vega_lite_chart")


def test_diagnostics_every_section_with_missing_values_and_dates(env):
    at = open_page("diagnostics", model="shop-cgan", n=300)
    ks = at.dataframe[0].value
    assert {"signup", "income", "region"} <= set(ks["column"])
    for section in ["Trend", "Detection", "Utility", "Privacy", "Per class"]:
        at.radio(key="diagnostics:section").set_value(section).run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, texts(at.error)


def test_protocol_views_beside_real_data_on_a_user_table(env):
    """Trend, the boosting detector and the privacy figures with the file's gaps, dates and a range target."""
    from tests.test_app_protocol import check_boosting, check_privacy, check_trend
    at = open_page("diagnostics", model="shop-cgan", n=300, section="Trend")
    scores = check_trend(at)
    cells = " ".join(c.proto.spec for c in at.get("vega_lite_chart"))
    assert all(f'"{name}"' in cells for name in ("signup", "income", "region", "price (range)"))
    at.radio(key="diagnostics:section").set_value("Detection").run()
    detectors = check_boosting(at)
    at.radio(key="diagnostics:section").set_value("Privacy").run()
    figures = check_privacy(at)
    assert figures.loc["Exact-match rate"].iloc[1] == 0  # real holdout rows copy no training row
    assert not at.error, texts(at.error)
    print(f"\n{scores}\n{detectors.round(3).to_string()}\n{figures.iloc[:, :2].round(3).to_string()}")


def diagnostics_warning(data: Path, monkeypatch) -> str:
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(data))
    return texts(app_page("diagnostics", model="shop-gan").warning)


def test_missing_source_file_says_where_to_put_it(env, monkeypatch, tmp_path):
    warning = diagnostics_warning(tmp_path, monkeypatch)
    assert "shop.csv not found in the data folder" in warning and "GAN_EXPLORER_DATA" in warning
    assert str(tmp_path) not in warning  # the page names no server path


def test_changed_source_file_is_refused(env, monkeypatch, tmp_path):
    shutil.copy(env["data"] / "shop.csv", tmp_path / "shop.csv")
    with open(tmp_path / "shop.csv", "a") as f:
        f.write("9999,2020-01-01,30,1000.0,north,True,x,NL,10.0\n")
    assert "is not the file this model was trained on" in diagnostics_warning(tmp_path, monkeypatch)


def test_training_page(env):
    at = open_page("training", model="shop-cgan")
    assert at.get("vega_lite_chart") or at.dataframe


@pytest.fixture(scope="module")
def survey(tmp_path_factory) -> dict[str, Path]:
    """A table of categoricals only, saved by pandas with its row labels (a blank first header cell)."""
    import numpy as np
    import pandas as pd
    folder = tmp_path_factory.mktemp("survey")
    rng = np.random.default_rng(5)
    n = 400
    answer = rng.choice(["yy", "yn", "ny", "nn"], n)
    pd.DataFrame({"bid": rng.choice([6, 12, 24, 48], n), "answer": answer,
                  "age_band": np.where(answer == "yy", rng.integers(1, 3, n), rng.integers(1, 7, n)),
                  "sex": rng.choice(["female", "male"], n)}).to_csv(folder / "survey.csv")
    main(["--data", str(folder / "survey.csv"), "--target", "sex", "--arch", "all", "--quick",
          "--out", str(folder / "models"), "--checkpoints", str(folder / "ckpt")])
    main(["--data", str(folder / "survey.csv"), "--name", "free", "--quick",  # no target: survey's free-gan
          "--out", str(folder / "models"), "--checkpoints", str(folder / "ckpt")])
    return {"models": folder / "models", "data": folder}


def test_a_table_of_categoricals_only_works_on_every_page(survey, monkeypatch):
    """No numeric column at all (found on R's NaturalPark: training crashed) and a row-label column left out."""
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(survey["models"]))
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(survey["data"]))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    rows = open_page("sample", model="survey-cgan", n=100, seed=1).dataframe[0].value
    assert set(rows.columns) == {"bid", "answer", "age_band", "sex"} and rows["bid"].isin([6, 12, 24, 48]).all()
    open_page("condition", model="survey-cgan", n=100)
    open_page("interpolate", model="survey-gan")
    at = open_page("diagnostics", model="survey-cgan", n=300)
    for section in ["Trend", "Detection", "Utility", "Privacy", "Per class"]:
        at.radio(key="diagnostics:section").set_value(section).run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, texts(at.error)


def test_a_model_trained_without_a_target_has_every_section_that_needs_none(survey, monkeypatch):
    """Diagnostics crashed (KeyError '') for every model trained without --target; found by opening every page
    of quick models of R datasets."""
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(survey["models"]))
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(survey["data"]))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    for page in ("sample", "interpolate", "training"):
        open_page(page, model="free-gan", n=100)
    at = open_page("diagnostics", model="free-gan", n=300)
    assert at.radio(key="diagnostics:section").options == ["Distributions", "Trend", "Detection", "Privacy"]
    assert "without a target column" in texts(at.caption)
    for section in ["Trend", "Detection", "Privacy"]:
        at.radio(key="diagnostics:section").set_value(section).run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, texts(at.error)
    at = open_page("diagnostics", model="free-gan", n=300, section="Utility")  # an old link: the first section
    assert at.radio(key="diagnostics:section").value == "Distributions"
