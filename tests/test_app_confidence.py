"""Condition page for confidence-conditioned models (AppTest on the committed ones)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app import open_page  # tests/ is on sys.path (pytest's rootdir-relative import)

from explorer.runtime.models import DEFAULT_ROOT, discover

CONFIDENCE = [m for m, c in discover(DEFAULT_ROOT)[0].items() if c.condition_type == "confidence"]
pytestmark = pytest.mark.skipif(not CONFIDENCE, reason="no confidence-conditioned model committed")


def page(**params) -> AppTest:
    return open_page("condition", **{"model": CONFIDENCE[0], "n": "300", **params})


def test_slider_changes_the_rows_and_the_achieved_confidence():
    at = page()
    assert not at.exception
    slider = at.slider(key="condition:confidence")
    assert slider.value == 0.5
    before = at.dataframe[0].value.copy()
    mean_before = at.metric[1].value
    slider.set_value(0.9).run()
    assert not at.exception and at.query_params["confidence"] in ("0.90", ["0.90"])
    assert not at.dataframe[0].value.equals(before)
    assert float(at.metric[1].value) > float(mean_before)
    assert len(at.get("vega_lite_chart")) == 2  # achieved histogram + requested-vs-achieved link
    k = discover(DEFAULT_ROOT)[0][CONFIDENCE[0]].condition.candidates or 1
    if k > 1:  # the page says how the rows were chosen
        assert any(f"draws {k} candidates" in m.value for m in at.markdown)


@pytest.mark.parametrize("bad", ["nan", "1.5", "-1", "abc"])
def test_bad_confidence_in_the_url_gets_a_message(bad):
    at = page(confidence=bad)
    assert not at.exception
    assert any("confidence in the URL" in e.value for e in at.error)
    assert at.slider(key="condition:confidence").value == 0.5


def test_a_request_beyond_the_reachable_range_is_said_with_the_range():
    at = page(confidence="0.50")
    help_text = at.slider(key="condition:confidence").help
    low, high = (float(x) for x in help_text.split("from about ")[1].split(" (")[0].split(" to "))
    assert not [w for w in at.warning if "beyond" in w.value]  # 0.5 is reachable
    from explorer.runtime.judge import RANGE
    far = RANGE[1] if RANGE[1] - high > 0.05 else RANGE[0]
    if not (far > high + 0.05 or far < low - 0.05):
        pytest.skip(f"this model reaches {low:.2f}-{high:.2f}: nothing beyond it to ask for")
    at.slider(key="condition:confidence").set_value(far).run()
    warning = " ".join(w.value for w in at.warning)
    assert "beyond what this model can deliver" in warning and f"{high:.2f}" in warning


def test_the_reachable_range_shown_is_the_cards_measurement():
    at = page()
    levels = discover(DEFAULT_ROOT)[0][CONFIDENCE[0]].metrics["confidence"]["per_level"]
    means = [level["mean"] for level in levels.values()]
    caption = next(c.value for c in at.caption if c.value.startswith("Reachable"))
    assert f"from about {min(means):.2f} to {max(means):.2f}" in caption and "measured at export" in caption
    assert f"from about {min(means):.2f} to {max(means):.2f}" in at.slider(key="condition:confidence").help
