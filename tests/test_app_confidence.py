"""Condition page for confidence-conditioned models (AppTest on the committed ones)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app import open_page  # tests/ is on sys.path (pytest's rootdir-relative import)

from explorer.runtime.models import DEFAULT_ROOT, discover

CONFIDENCE = [m for m, c in discover(DEFAULT_ROOT)[0].items() if (c.get("condition") or {}).get("type") == "confidence"]
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


@pytest.mark.parametrize("bad", ["nan", "1.5", "-1", "abc"])
def test_bad_confidence_in_the_url_gets_a_message(bad):
    at = page(confidence=bad)
    assert not at.exception
    assert any("confidence in the URL" in e.value for e in at.error)
    assert at.slider(key="condition:confidence").value == 0.5
