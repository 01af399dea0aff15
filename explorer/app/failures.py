"""What a user sees when a page fails unexpectedly: a generic message with a short reference id, while
the traceback goes to the server log under the same id. ``showErrorDetails = "none"`` hides only
Streamlit's own error box; the app's catch-all and its fragments report through here instead, so no
exception type, message or server path reaches the page."""
from __future__ import annotations

import functools
import logging
import os
import uuid

import streamlit as st

LOG = logging.getLogger("gan_explorer")
RAISE_ENV = "GAN_EXPLORER_RAISE"  # "1": let exceptions through (tests want the real one)


def raising() -> bool:
    return os.environ.get(RAISE_ENV) == "1"


def report(exc: BaseException, where: str = "page") -> str:
    """Log ``exc`` with its traceback under a fresh reference id and show the user only that id."""
    ref = uuid.uuid4().hex[:8]
    LOG.error("%s failed [ref %s]", where, ref, exc_info=(type(exc), exc, exc.__traceback__))
    st.error(f"This {where} hit an unexpected error and stopped (reference {ref}). The other pages and models "
             "keep working; the server log has the details under that reference.", icon=":material/error:")
    return ref


def fragment(func):
    """``st.fragment`` whose unexpected errors are reported like a page's: without this, Streamlit draws its
    own box in the fragment and raises ``FragmentHandledException`` into the page."""
    @functools.wraps(func)
    def guarded(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # Streamlit's stop and rerun are BaseException and pass through
            if raising():
                raise
            report(exc, "part of the page")
    return st.fragment(guarded)
