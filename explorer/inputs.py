"""What a user types — in the app, in a shared URL, on the bulk CLI — parsed into checked values.

One grammar for whole numbers (row counts, seeds, indices) and one for a class mix, so the same text
means the same thing everywhere and a mistake gets the same sentence everywhere. Every parser raises
``InputError`` (a ``ValueError``) whose message names the problem and the fix; what the user typed is
echoed through ``explorer.text.brief`` (a code span: safe in the app's markdown, plain on a terminal).
Standard library only: the serving runtime imports this module too.
"""
from __future__ import annotations

import math
import re

from explorer.text import brief

SEED_MAX = 2**32 - 1  # numpy's SeedSequence takes more, but a seed people can type and share stays small


class InputError(ValueError):
    """User input that cannot be used; the message is meant for the user."""


# ---------------------------------------------------------------- whole numbers
def whole(value, what: str, low: int, high: int) -> int:
    """``value`` as an int in [low, high]: ints, integral floats and their text (``' 42 '``, ``'1e3'``);
    never a bool, NaN, ∞ or a fraction."""
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number != int(number):
        raise InputError(f"{what} must be a whole number from {low:,} to {high:,}, got {brief(value)}")
    if not low <= number <= high:
        raise InputError(f"{what} must be a whole number from {low:,} to {high:,}, got {int(number):,}")
    return int(number)


def rows(value, limit: int) -> int:
    """A row count: 1 to ``limit``."""
    return whole(value, "number of rows", 1, limit)


def seed(value, what: str = "seed") -> int:
    """A seed: 0 to 2**32 − 1."""
    return whole(value, what, 0, SEED_MAX)


def index(value, count: int, what: str) -> int:
    """A 0-based position among ``count`` items (a test image, a table row)."""
    return whole(value, what, 0, count - 1)


# ---------------------------------------------------------------- class mixes
MIX_GRAMMAR = ("a class (e.g. {first}), or shares like {first}:0.3 (the classes not named split the "
               "rest) or {example} (every class named: relative weights); '=' works as well as ':'")
_PART = re.compile(r"\s*(.+?)\s*[=:]\s*([^=:]*?)\s*")  # the share follows the last '=' or ':' ('<=50K' holds one)


def parse_mix(text, classes: list[str]) -> str | dict[str, float]:
    """The one class-mix grammar of the app, its URLs and the bulk CLI.

    ``'>50K'`` → that class (returned as the name); ``'>50K:0.3'`` → shares, the classes not named
    splitting the rest equally; ``'<=50K:7,>50K:3'`` (every class named) → relative weights that need
    not sum to 1. A mix comes back as every class's weight, in the classes' order.
    """
    if not classes:
        raise InputError("a class mix needs a conditional model; this one has no classes")
    usage = MIX_GRAMMAR.format(first=classes[0], example=",".join(f"{c}:{w}" for c, w in
                                                                   zip(classes, [7, 3] + [0] * len(classes))))
    if text is None or not str(text).strip():
        raise InputError(f"the class mix is empty; give {usage}")
    text = str(text).strip()
    if text in classes:
        return text
    given: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        match = None if part in classes else _PART.fullmatch(part)
        name, share = match.groups() if match else (part, None)
        if name not in classes:
            raise InputError(f"unknown class {brief(name)} in the class mix {brief(text)}; classes are {', '.join(classes)}")
        if name in given:
            raise InputError(f"class {brief(name)} is named twice in the class mix {brief(text)}; name each class once")
        try:
            weight = float(share)
        except (TypeError, ValueError):
            raise InputError(f"the share of {brief(name)} in the class mix {brief(text)} is not a number; give {usage}") from None
        if not math.isfinite(weight) or weight < 0:
            raise InputError(f"the share of {brief(name)} must be a finite number ≥ 0, got {brief(share)}")
        given[name] = weight
    rest = [c for c in classes if c not in given]
    total = math.fsum(given.values())
    if rest and total > 1 + 1e-9:
        raise InputError(f"the shares in the class mix {brief(text)} add up to {total:g} > 1; keep them ≤ 1, or name "
                         "every class to give relative weights")
    mix = {c: given[c] if c in given else (1.0 - total) / len(rest) for c in classes}
    if not any(w > 0 for w in mix.values()):
        raise InputError(f"the class weights in {brief(text)} are all 0; at least one class needs a share > 0")
    return mix


def mix_weights(condition: str | dict[str, float], classes: list[str]) -> dict[str, float]:
    """A parsed mix as every class's weight (one class → 1 for it, 0 for the others)."""
    if isinstance(condition, str):
        return {c: float(c == condition) for c in classes}
    return {c: float(condition.get(c, 0.0)) for c in classes}


def format_mix(condition: str | dict[str, float]) -> str:
    """The text ``parse_mix`` reads back to the same condition: the class, or every class's weight
    (``a:0.7,b:0.3``; pass all classes, or the ones left out would split the rest)."""
    if isinstance(condition, str):
        return condition
    return ",".join(f"{c}:{_short(w)}" for c, w in condition.items())


def _short(weight: float) -> str:
    text = f"{weight:g}"
    return text if float(text) == weight else repr(float(weight))
