"""The one input grammar (explorer/inputs.py): whole numbers and class mixes, over generated input."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.inputs import SEED_MAX, InputError, format_mix, parse_mix, rows, seed, whole

PROPERTY = settings(max_examples=200, deadline=None)
# class names as datasets spell them: '<=50K' holds the separator '=', 'tested_positive' an underscore
names = st.one_of(st.sampled_from(["<=50K", ">50K", "good", "bad", "tested_positive", "0", "9"]),
                  st.text(st.characters(blacklist_characters=",:=", blacklist_categories=("Z", "C")),
                          min_size=1, max_size=8))
class_lists = st.lists(names, min_size=2, max_size=5, unique=True)
weights = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------- whole numbers
@given(low=st.integers(-10**6, 10**6), span=st.integers(0, 10**9), data=st.data())
@PROPERTY
def test_whole_takes_exactly_the_whole_numbers_in_range(low, span, data):
    high = low + span
    n = data.draw(st.integers(low - 10, high + 10))
    form = data.draw(st.sampled_from([n, float(n), str(n), f" {n} ", f"{float(n)}"]))
    if low <= n <= high:
        assert whole(form, "count", low, high) == n
    else:
        with pytest.raises(InputError, match=f"count must be a whole number from {low:,} to {high:,}"):
            whole(form, "count", low, high)


@given(value=st.one_of(st.none(), st.booleans(), st.floats().filter(lambda x: not x.is_integer()),
                       st.text().filter(lambda t: not _is_whole_text(t)), st.lists(st.integers(), max_size=2)))
@PROPERTY
def test_anything_else_is_refused_with_the_grammar(value):
    with pytest.raises(InputError, match=r"seed must be a whole number from 0 to 4,294,967,295, got "):
        seed(value)


def _is_whole_text(text: str) -> bool:
    try:
        number = float(text.strip())
    except ValueError:
        return False
    return math.isfinite(number) and number.is_integer()


def test_named_limits():
    assert seed(SEED_MAX) == SEED_MAX and rows("100000", 100_000) == 100_000
    with pytest.raises(InputError, match="number of rows must be a whole number from 1 to 100,000, got 250,000"):
        rows(250_000, 100_000)


# ---------------------------------------------------------------- class mixes
@given(classes=class_lists, data=st.data())
@PROPERTY
def test_a_class_name_is_that_class(classes, data):
    cls = data.draw(st.sampled_from(classes))
    assert parse_mix(cls, classes) == cls and parse_mix(f"  {cls} ", classes) == cls


@given(classes=class_lists, data=st.data())
@PROPERTY
def test_every_class_named_is_relative_weights_and_formats_back(classes, data):
    mix = {c: data.draw(weights) for c in classes}
    if not any(w > 0 for w in mix.values()):
        with pytest.raises(InputError, match="all 0"):
            parse_mix(format_mix(mix), classes)
        return
    assert parse_mix(format_mix(mix), classes) == mix
    sep = data.draw(st.sampled_from(["=", ":", " = "]))
    assert parse_mix(", ".join(f"{c}{sep}{w!r}" for c, w in mix.items()), classes) == mix


@given(classes=class_lists, data=st.data())
@PROPERTY
def test_shares_of_some_classes_leave_the_rest_to_the_others(classes, data):
    named = data.draw(st.lists(st.sampled_from(classes), min_size=1, max_size=len(classes) - 1, unique=True))
    shares = {c: data.draw(st.floats(0, 1)) for c in named}
    text = ",".join(f"{c}={s!r}" for c, s in shares.items())
    if math.fsum(shares.values()) > 1 + 1e-9:
        with pytest.raises(InputError, match="> 1"):
            parse_mix(text, classes)
        return
    mix = parse_mix(text, classes)
    assert list(mix) == classes and all(mix[c] == s for c, s in shares.items())
    rest = {mix[c] for c in classes if c not in shares}
    assert len(rest) == 1 and math.fsum(mix.values()) == pytest.approx(1)


@given(classes=class_lists, text=st.one_of(st.none(), st.text(max_size=30),
                                           st.lists(st.tuples(names, st.text(max_size=6)), max_size=3).map(
                                               lambda parts: ",".join(f"{c}:{w}" for c, w in parts))))
@PROPERTY
def test_any_text_is_a_valid_condition_or_one_clear_error(classes, text):
    try:
        result = parse_mix(text, classes)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    if isinstance(result, str):
        assert result in classes
    else:
        assert list(result) == classes and any(w > 0 for w in result.values())
        assert all(math.isfinite(w) and w >= 0 for w in result.values())


@pytest.mark.parametrize("text, message", [
    ("", "the class mix is empty; give a class (e.g. <=50K), or shares like <=50K:0.3"),
    ("rich:0.3", "unknown class `'rich'` in the class mix `'rich:0.3'`; classes are <=50K, >50K"),
    (">50K:x", "the share of `'>50K'` in the class mix `'>50K:x'` is not a number"),
    (">50K:-1", "the share of `'>50K'` must be a finite number ≥ 0, got `'-1'`"),
    (">50K:1e999", "must be a finite number ≥ 0"),
    (">50K:1.5", "add up to 1.5 > 1; keep them ≤ 1, or name every class"),
    (">50K:0.3,>50K=0.2", "class `'>50K'` is named twice"),
    ("<=50K:0,>50K:0", "are all 0"),
])
def test_messages_name_the_problem_and_the_fix(text, message):
    with pytest.raises(InputError) as info:
        parse_mix(text, ["<=50K", ">50K"])
    assert message in str(info.value)


def test_an_unconditional_model_takes_no_mix():
    with pytest.raises(InputError, match="needs a conditional model"):
        parse_mix(">50K", [])


@pytest.mark.parametrize("text", ["rich:0.3", "tested_positive:1.5", "tested_positive:-1"])
def test_the_app_url_and_the_bulk_cli_say_the_same(text, tmp_path, monkeypatch, capsys):
    """One grammar, one sentence: the Condition page's URL and ``--mix`` quote the parser's message."""
    from streamlit.testing.v1 import AppTest

    from explorer import generate
    from explorer.runtime.models import DEFAULT_ROOT, Model
    classes = Model.load("diabetes-cgan", DEFAULT_ROOT).classes
    with pytest.raises(InputError) as info:
        parse_mix(text, classes)
    sentence = str(info.value)
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(DEFAULT_ROOT))
    assert generate.main(["--model", "diabetes-cgan", "--rows", "10", "--mix", text, "--out", str(tmp_path / "out"),
                          "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == f"error: --mix: {sentence}"
    at = AppTest.from_file(str(DEFAULT_ROOT.parent / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/condition.py")
    at.query_params.update({"model": "diabetes-cgan", "condition": text})
    at.run()
    assert not at.exception and any(sentence in str(e.value) for e in at.error), [e.value for e in at.error]
