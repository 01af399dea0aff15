"""Diagnostics' protocol views in AppTest (Trend heatmap and worst pairs, the gradient-boosting detector behind
its button, the privacy figures), each beside real data's own reference; and Home's placeholder for metrics
that do not apply. User-table models: tests/test_app_own_table.py."""
from __future__ import annotations

import pytest

from tests.test_app import ROOT, app_models, built, committed_models, open_page, texts  # noqa: F401  (fixtures)

FIGURES = ["DCR share", "Exact-match rate", "Nearest-neighbour distance ratio", "Membership-inference AUC"]


def metrics(at) -> dict[str, float]:
    return {m.label: float(m.value.rstrip("%")) for m in at.metric}


def table_with_or_none(at, column: str):
    return next((d.value for d in at.dataframe if column in d.value.columns), None)


def table_with(at, column: str):
    found = table_with_or_none(at, column)
    assert found is not None, f"no table with a {column!r} column"
    return found


def check_trend(at) -> dict[str, float]:
    scores = metrics(at)
    assert 0.5 < scores["Trend, synthetic rows"] <= 1 and 0.5 < scores["Real data's own Trend"] <= 1
    charts = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("How far each pair's trend is from the real one" in spec for spec in charts)
    worst = table_with(at, "Real Score")
    assert len(worst) >= 1 and worst["Score"].is_monotonic_increasing and {"Column 1", "Column 2"} <= set(worst)
    return scores


def check_boosting(at, page: str = "diagnostics"):
    button = at.button(key=f"{page}:boosting")
    assert "gradient-boosting" in button.label and " s on 2 idle cores" in button.label
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key=f"{page}:boosting").disabled  # asked once for these settings
    table = table_with(at, "real data's own (real vs real)").set_index("detector")
    assert len(table) == 3 and table.index[-1] == "Gradient boosting"
    assert ((table >= 0) & (table <= 1)).all().all()
    charts = " ".join(c.proto.spec for c in at.get("vega_lite_chart"))
    assert "What gives it away (gradient boosting)" in charts
    return table


def check_privacy(at):
    table = table_with(at, "real data's own (real holdout rows)").set_index("figure")
    assert list(table.index) == FIGURES
    assert table.iloc[:, :2].apply(lambda c: c.between(0, 1)).all().all()
    return table


def test_trend_and_privacy_beside_real_data(built):
    at = open_page("diagnostics", model="diabetes-cgan", n=500, section="Trend")
    assert not at.error, texts(at.error)
    check_trend(at)
    at.radio(key="diagnostics:section").set_value("Privacy").run()
    check_privacy(at)


@pytest.mark.slow  # four 5-fold detectors: about 8 s
def test_boosting_detector_beside_real_data_behind_its_button(built):
    at = open_page("diagnostics", model="diabetes-cgan", n=500, section="Detection")
    assert table_with_or_none(at, "real data's own (real vs real)") is None  # not on the first view's path
    table = check_boosting(at)
    assert table.loc["Logistic regression", "AUC, synthetic vs real"] == pytest.approx(
        metrics(at)["Detection AUC (LR)"], abs=5e-4)  # the same detector the first view shows
    at.radio(key="diagnostics:section").set_value("Utility").run()
    at.radio(key="diagnostics:section").set_value("Detection").run()  # kept while moving between sections
    assert at.button(key="diagnostics:boosting").disabled
    assert table_with_or_none(at, "real data's own (real vs real)") is not None


def test_trend_of_one_class_leaves_its_target_out(built):
    at = open_page("diagnostics", model="diabetes-cgan", n=500, section="Trend", **{"class": "tested_positive"})
    assert not at.error, texts(at.error)
    check_trend(at)
    cells = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert not any('"class"' in spec for spec in cells)


@pytest.mark.slow  # 3-4 s: an app run without the real data, in the full suite only
def test_missing_real_data_is_said_on_the_new_sections(built, monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(tmp_path / "none"))
    at = open_page("diagnostics", model="diabetes-gan", section="Trend")
    assert "GAN_EXPLORER_DATA" in texts(at.warning) and not at.metric


def test_home_shows_a_dash_where_a_metric_does_not_apply():
    if not committed_models():
        pytest.skip("no committed models in exported/")
    at = open_page()
    gaps = [d for d in at.dataframe if "model" in d.value and d.value.isna().any().any()]
    assert gaps, "no comparison table with a metric that does not apply"
    assert all(d.proto.placeholder == "—" for d in gaps)
    assert "—: not measured for that model" in texts(at.caption)


@pytest.mark.slow  # Adult at 5,000 rows: about 30 s on 2 idle cores
def test_adult_cgan_balanced_every_protocol_view(monkeypatch):
    if not (ROOT / "exported" / "adult-cgan-balanced" / "card.json").is_file():
        pytest.skip("adult-cgan-balanced is not committed")
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(ROOT / "exported"))
    at = open_page("diagnostics", model="adult-cgan-balanced", n=5000, section="Trend")
    scores = check_trend(at)
    assert scores["Real data's own Trend"] > 0.95  # 5,000 real holdout rows
    at.radio(key="diagnostics:section").set_value("Detection").run()
    table = check_boosting(at)
    assert table["real data's own (real vs real)"].between(0.45, 0.55).all()
    at.radio(key="diagnostics:section").set_value("Privacy").run()
    privacy = check_privacy(at)
    own = privacy.iloc[:, 1]
    assert 0.45 < own["DCR share"] < 0.55 and 0.45 < own["Membership-inference AUC"] < 0.55
    trend, own_trend = scores["Trend, synthetic rows"], scores["Real data's own Trend"]
    print(f"\nTrend {trend:.3f} (real {own_trend:.3f})\n{table.round(3).to_string()}\n"
          f"{privacy.iloc[:, :2].round(3).to_string()}")
