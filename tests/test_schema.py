"""Reading users' files and inferring their schema: every column kind, overrides, and each bad input."""
from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from explorer.data.readers import InputError, read_table
from explorer.data.schema import OTHER, Schema, infer, read_schema_file


def mixed_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array("the cat sat on a mat while dogs ran far away".split())
    return pd.DataFrame({
        "row_id": np.arange(1000, 1000 + n),
        "customer": [f"C-{i:06d}" for i in range(n)],
        "joined": pd.date_range("2019-03-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "seen": pd.date_range("2021-01-01 08:00", periods=n, freq="17min"),
        "comment": [" ".join(rng.choice(words, 7)) + f" #{i}" for i in range(n)],
        "income": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(10, 1, n).round(2)),
        "children": rng.integers(0, 4, n),
        "visits": rng.poisson(30, n),
        "member": rng.random(n) < 0.3,
        "country": "NL",
        "blank": np.nan,
        "city": rng.choice([f"city{i}" for i in range(200)], n, p=np.r_[np.full(10, 0.097), np.full(190, 0.03 / 190)]),
    })


def test_every_kind_is_inferred_with_its_reason():
    s = infer(mixed_table())
    kinds = {c.name: c.kind for c in s.columns}
    assert kinds == {"row_id": "refused", "customer": "refused", "joined": "datetime", "seen": "datetime",
                     "comment": "refused", "income": "numeric", "children": "categorical", "visits": "numeric",
                     "member": "categorical", "country": "constant", "blank": "refused", "city": "categorical"}
    assert s["row_id"].reason.startswith("identifier") and s["customer"].reason.startswith("identifier")
    assert s["comment"].reason.startswith("free text")
    assert s["blank"].reason == "all values missing"
    assert s["joined"].unit == "D" and s["seen"].unit == "min"
    assert s["income"].missing == pytest.approx(mixed_table()["income"].isna().mean())
    assert not s["income"].integer and s["visits"].integer and s["visits"].dtype == "int"
    assert s["member"].dtype == "bool" and sorted(s["member"].levels) == ["False", "True"]
    assert s["children"].dtype == "int" and s["country"].value == "NL"


def test_high_cardinality_keeps_levels_covering_99_percent_plus_other():
    frame = mixed_table(5000)
    spec = infer(frame)["city"]
    assert spec.levels[-1] == OTHER and spec.grouped > 0
    kept = frame["city"].isin(spec.levels[:-1]).mean()
    assert kept >= 0.99 - 1e-9
    encoded = infer(frame).encode(frame)["city"]
    assert set(encoded) <= set(spec.levels) and (encoded == OTHER).mean() == pytest.approx(1 - kept)


def test_encode_gives_floats_for_numbers_and_dates_and_nan_where_missing():
    frame = mixed_table()
    frame.loc[3, "joined"] = None
    s = infer(frame)
    model = s.encode(frame)
    assert list(model.columns) == [c.name for c in s.learned]
    assert model["joined"].dtype == float and np.isnan(model.loc[3, "joined"]) and model.loc[0, "joined"] == 0
    assert s["joined"].timestamp(model.loc[5, "joined"]) == pd.Timestamp(frame.loc[5, "joined"])
    assert model["income"].isna().equals(frame["income"].isna())
    assert set(model["member"]) == {"True", "False"}


def test_schema_round_trips_through_a_dict():
    s = infer(mixed_table())
    again = Schema.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again.to_dict() == s.to_dict()
    assert "free text" in s.pretty("t.csv") and "t.csv: 400 rows" in s.pretty("t.csv")


def test_override_file_changes_types(tmp_path):
    frame = mixed_table()
    frame["code"] = np.random.default_rng(1).integers(0, 300, len(frame))
    path = tmp_path / "schema.toml"
    path.write_text('[columns]\nchildren = "numeric"\ncode = "categorical"\ncomment = "ignore"\n'
                    'joined = { type = "datetime", format = "%Y-%m-%d" }\n')
    overrides, names = read_schema_file(path)
    s = infer(frame, overrides)
    assert names is None
    assert s["children"].kind == "numeric" and s["code"].kind == "categorical" and s["code"].dtype == "int"
    assert s["comment"].reason == "ignored by the schema file" and s["children"].source == "schema file"
    json_path = tmp_path / "schema.json"
    json_path.write_text(json.dumps({"columns": {"children": {"type": "numeric", "integer": True}}}))
    assert infer(frame, read_schema_file(json_path)[0])["children"].integer


@pytest.mark.parametrize("text, message", [
    ('[columns]\nnope = "numeric"\n', "columns the table does not have"),
    ('[columns]\nvisits = "money"\n', "unknown type 'money'"),
    ('[columns]\nvisits = { type = "numeric", scale = 2 }\n', "unknown setting 'scale'"),
    ('colums = 1\n', "unknown key 'colums'"),
    ('[columns\n', "not valid TOML"),
    ('[columns]\ncustomer = "numeric"\n', "declared numeric but 400 values are not numbers"),
    ('[columns]\ncity = "datetime"\n', "declared datetime"),
    ('[columns]\nincome = { type = "numeric", integer = true }\n', "holds fractions"),
    ('[columns]\nblank = "numeric"\n', "all its values are missing"),
])
def test_bad_schema_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "schema.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        infer(mixed_table(), read_schema_file(path)[0])


def test_readers_read_every_format_alike(tmp_path):
    frame = mixed_table()[["income", "children", "city", "joined"]]
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    frame.to_csv(tmp_path / "semi.csv", index=False, sep=";")
    frame.to_parquet(tmp_path / "t.parquet")
    for name in ["t.csv", "t.tsv", "semi.csv", "t.parquet"]:
        got = read_table(tmp_path / name)
        assert list(got.columns) == list(frame.columns) and len(got) == len(frame), name
        assert infer(got)["income"].kind == "numeric" and infer(got)["joined"].kind == "datetime", name


@pytest.mark.parametrize("values, fmt", [
    (["25/11/63", "5/11/63", "29/10/63"], "%d/%m/%y"),  # R's KMsurv baboon: pandas' guess reads none of these
    (["31.12.2020", "01.01.2021", "15.06.2019"], "%d.%m.%Y"),
    (["11/05/2020", "12/31/2020", "1/2/2021"], "%m/%d/%Y"),
    (["05-Jan-2020", "06-Feb-2021", "17-Mar-2019"], "%d-%b-%Y"),
])
def test_common_day_first_and_two_digit_year_dates_are_dates(values, fmt):
    frame = pd.DataFrame({"when": values * 30, "x": np.arange(90.0)})
    spec = infer(frame).columns[0]
    assert spec.kind == "datetime" and spec.format == fmt, spec


def test_semicolon_file_with_decimal_commas_reads_numbers(tmp_path):
    """Spreadsheets in much of Europe write 1,5 and separate cells by semicolons: numbers, not categories."""
    rows = "".join(f"item{i % 7};{i},5;{i}\n" for i in range(60))
    (tmp_path / "eu.csv").write_text("name;price;qty\n" + rows)
    frame = read_table(tmp_path / "eu.csv")
    assert frame["price"].tolist()[:3] == [0.5, 1.5, 2.5] and frame["qty"].dtype.kind == "i"
    assert [c.kind for c in infer(frame).columns[:2]] == ["categorical", "numeric"]
    (tmp_path / "points.csv").write_text("name;price\n" + "".join(f"item{i % 7};{i}.5\n" for i in range(60)))
    assert read_table(tmp_path / "points.csv")["price"].iloc[1] == 1.5


def test_row_labels_under_a_blank_header_are_left_out(tmp_path):
    """R's write.csv and pandas' to_csv write row labels under a blank first name: read, named as pandas
    names them, and refused as row labels; other columns keep their types."""
    frame = mixed_table()[["income", "children"]]
    frame.index = [f"row {i * 3}" for i in range(len(frame))]
    frame.to_csv(tmp_path / "labels.csv")  # index=True: a blank first header cell
    frame.set_axis(np.arange(len(frame)) * 7 + 4).to_csv(tmp_path / "numbers.csv")  # 4, 11, 18, ...: not consecutive
    for name in ("labels.csv", "numbers.csv"):
        schema = infer(read_table(tmp_path / name))
        assert schema.columns[0].name == "Unnamed: 0" and schema.columns[0].kind == "refused"
        assert schema.columns[0].reason.startswith("row labels")
        assert [c.kind for c in schema.columns[1:]] == ["numeric", "categorical"]
    gappy = pd.DataFrame({"": [1, 1, 2] * 20, "x": np.arange(60.0)})  # not distinct: an unnamed column of data
    gappy.to_csv(tmp_path / "data.csv", index=False)
    assert infer(read_table(tmp_path / "data.csv")).columns[0].kind == "categorical"


def test_arff_nominals_become_strings(tmp_path):
    rows = "\n".join(f"{i % 7},'{'ab'[i % 2]}'" for i in range(60)) + "\n?,a\n"
    (tmp_path / "t.arff").write_text(f"@relation t\n@attribute x real\n@attribute k {{a,b}}\n@data\n{rows}")
    frame = read_table(tmp_path / "t.arff")
    assert set(frame["k"]) == {"a", "b"} and frame["x"].isna().sum() == 1


def test_headerless_file_is_read_with_names_from_the_schema(tmp_path):
    path = tmp_path / "raw.data"
    path.write_text("".join(f"{i}, x{i % 3}, {i * 0.5}\n" for i in range(60)))
    with pytest.raises(InputError, match="first row looks like data"):
        read_table(path)
    frame = read_table(path, names=["a", "b", "c"])
    assert list(frame.columns) == ["a", "b", "c"] and len(frame) == 60 and frame["b"].iloc[0] == "x0"


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "nope.csv", "does not exist"),
    (lambda d: _write(d / "t.xlsx", b"PK\x03\x04"), "unknown file type"),
    (lambda d: _write(d / "t.csv", b""), "is empty"),
    (lambda d: _write(d / "t.csv", b"a,b\n"), "no data rows"),
    (lambda d: _write(d / "t.csv", b"a,b\n" + b"1,2\n" * 49), "only 49 rows"),
    (lambda d: _write(d / "t.csv", b"a,b,a\n" + b"1,2,3\n" * 60), "duplicate column names 'a'"),
    (lambda d: _write(d / "t.csv", b"a,b\n" + b"1,2\n" * 60 + b"1,2,3,4\n"), "cannot be read"),
    (lambda d: _write(d / "t.csv", b"a,b\x00\x01\x02" * 100), "binary file"),
    (lambda d: _write(d / "t.parquet", b"PAR1 not really"), "not a readable Parquet"),
    (lambda d: _write(d / "t.arff", b"@relation x\n@attribute a real\n@data\nfoo\n"), "not a readable ARFF"),
    (lambda d: _write(d / "t.arff", b"@relation x\n@attribute s string\n@data\n'a'\n"), "convert the file"),
])
def test_bad_files_name_the_problem_and_the_fix(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        read_table(make(tmp_path))


def test_duplicate_parquet_columns_are_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pa.table([pa.array(range(60)), pa.array(range(60))], names=["a", "a"])
    pq.write_table(table, tmp_path / "d.parquet")
    with pytest.raises(InputError, match="duplicate column names 'a'"):
        read_table(tmp_path / "d.parquet")


@pytest.mark.slow
def test_inference_on_a_million_rows_takes_under_ten_seconds():
    rng = np.random.default_rng(0)
    n = 1_000_000
    frame = pd.DataFrame({"age": rng.integers(17, 90, n), "income": rng.lognormal(10, 1, n),
                          "job": rng.choice([f"job {i}" for i in range(40)], n).astype(object),
                          "country": rng.choice([f"c{i}" for i in range(300)], n).astype(object),
                          "day": pd.Series(pd.date_range("2000-01-01", periods=5000).strftime("%Y-%m-%d"))
                          .sample(n, replace=True, random_state=0).to_numpy(),
                          "flag": rng.random(n) < 0.2})
    frame.loc[rng.random(n) < 0.05, "income"] = np.nan
    start = time.perf_counter()
    s = infer(frame)
    seconds = time.perf_counter() - start
    assert seconds <= 10, seconds
    assert [c.kind for c in s.columns] == ["numeric", "numeric", "categorical", "categorical", "datetime", "categorical"]
