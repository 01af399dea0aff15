"""Condition page for instance-conditioned models: "more rows like this one" (AppTest on the committed ones)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app import open_page  # tests/ is on sys.path (pytest's rootdir-relative import)

from explorer.app.instance import parse_row
from explorer.runtime.models import DEFAULT_ROOT, discover

INSTANCE = [m for m, c in discover(DEFAULT_ROOT)[0].items() if c.condition_type == "instance"]
committed = pytest.mark.skipif(not INSTANCE, reason="no instance-conditioned model committed")


def page(**params) -> AppTest:
    return open_page("condition", **{"model": INSTANCE[0], "n": "100", **params})


def test_parse_row():
    assert parse_row("holdout:12", {"training": 100, "holdout": 20}) == ("holdout", 12)
    for bad in ("holdout:20", "holdout:-1", "test:1", "training:x", "12"):
        with pytest.raises(ValueError):
            parse_row(bad, {"training": 100, "holdout": 20})


@committed
def test_picking_another_row_changes_the_rows_and_they_stay_close_to_it():
    at = page()
    assert not at.exception
    chosen, rows = at.dataframe[1].value, at.dataframe[2].value  # [0]: the rows to find one by its values
    assert list(chosen.columns) == ["column", "value"] and len(rows) == 100
    assert float(at.metric[2].value) <= 0.6  # median distance ratio generated / random real rows
    at.radio(key="condition:split").set_value("holdout").run()
    at.number_input(key="condition:row:holdout").set_value(7).run()
    assert not at.exception and at.query_params["row"] in ("holdout:7", ["holdout:7"])
    assert not at.dataframe[1].value.equals(chosen) and not at.dataframe[2].value.equals(rows)
    assert len(at.get("vega_lite_chart")) == 1  # distances: generated vs real neighbours vs random rows


@committed
@pytest.mark.parametrize("bad", ["holdout:999999", "nowhere:3", "training:abc"])
def test_bad_row_in_the_url_gets_a_message(bad):
    at = page(row=bad)
    assert not at.exception
    assert any("Row from the URL" in e.value for e in at.error)
    assert at.radio(key="condition:split").value == "training"


@committed
def test_rows_are_found_by_filtering_on_column_values():
    at = page()
    at.multiselect(key="condition:find:training:columns").set_value(["sex", "age"]).run()
    at.multiselect(key="condition:find:training:sex").set_value(["Female"]).run()
    at.slider(key="condition:find:training:age").set_value((30.0, 31.0)).run()
    matches = at.dataframe[0].value
    assert len(matches) > 0 and (matches["sex"] == "Female").all() and matches["age"].between(30, 31).all()
    counted = next(c.value for c in at.caption if "rows match" in c.value)
    assert int(counted.split(" of ")[0].replace(",", "")) < int(counted.split(" of ")[1].split()[0].replace(",", ""))


@pytest.mark.slow  # 3-4 s: an app run without the real data, in the full suite only
@committed
def test_without_real_data_the_model_offers_its_stored_rows(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(tmp_path / "file" / "data"))  # cannot exist, cannot download
    at = page()
    assert not at.exception and "embeddings of" in at.info[0].value
    first = at.dataframe[0].value
    assert len(first) == 100
    at.number_input(key="condition:bank").set_value(17).run()
    assert not at.dataframe[0].value.equals(first) and at.query_params["bank"] == "17"
