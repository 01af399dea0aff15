"""Echoing what a user typed (a URL parameter, a flag) back in a message, safely.

The app's message boxes render markdown, and Streamlit turns bare URLs into links even inside escaped
text, so an echoed value goes into a code span, where nothing is a link, an image or HTML. Values are
cut short, so a megabyte-long parameter gives a one-line message.
"""
from __future__ import annotations

import re

LIMIT = 60  # characters of an echoed value


def brief(value, limit: int = LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters, as an inline code span (which also reads well on a terminal)."""
    text = repr(value)
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
