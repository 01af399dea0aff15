"""GAN Explorer: the entry point. ``streamlit run streamlit_app.py``

Registers the pages (one file each in app_pages/) with st.navigation; every page takes its state
from the URL (?model=…&seed=…&condition=…) so a view can be shared. No torch on this side.

The folder is not called pages/: Streamlit treats a pages/ folder as the old automatic
multipage layout until st.navigation has run once in the process, so the very first request
(or AppTest's switch_page) would run a page file on its own, skipping this entry script.
"""
import importlib
import threading

import streamlit as st

from streamlit.errors import FragmentHandledException

from explorer.app import state
from explorer.app.failures import raising, report
from explorer.app.gc_tuning import freeze_after_imports, trim_heap  # noqa: E402

st.set_page_config(page_title="GAN Explorer", page_icon=":material/scatter_plot:", layout="wide")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/sample.py", title="Sample", icon=":material/casino:", url_path="sample"),
    st.Page("app_pages/condition.py", title="Condition", icon=":material/tune:", url_path="condition"),
    st.Page("app_pages/interpolate.py", title="Interpolate", icon=":material/timeline:", url_path="interpolate"),
    st.Page("app_pages/diagnostics.py", title="Diagnostics", icon=":material/troubleshoot:", url_path="diagnostics"),
    st.Page("app_pages/training.py", title="Training", icon=":material/show_chart:", url_path="training"),
]


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per server process, after the first page is drawn: import the diagnostics stack
    (scikit-learn, scipy, altair's schema) in the background, so the first Diagnostics view
    does not pay ~1.5 s of imports. Pages that need it simply wait on Python's import lock."""
    def load():
        for name in ("explorer.app.charts", "explorer.app.diagnostics", "explorer.data.tables"):
            importlib.import_module(name)
    thread = threading.Thread(target=load, name="gan-explorer-warm-up", daemon=True)
    thread.start()
    return thread


try:
    st.navigation(PAGES).run()
except FragmentHandledException:  # a fragment's error, already drawn where the fragment is
    if raising():
        raise
except Exception as exc:  # last resort: a reference id, not a traceback (Streamlit's stop/rerun are BaseException)
    if raising():  # tests want the real exception
        raise
    report(exc)
finally:  # also after st.stop() (a StopException), which many pages end with
    warm_up()
    # Streamlit collects garbage after every run; keep that cheap by freezing the long-lived imports.
    freeze_after_imports()
    trim_heap()  # freed temporaries go back to the OS, not into the resident size
    # last: after st.stop() a Streamlit call may raise StopException again, which must not skip the lines above
    state.flush_after_run()  # the run's URL changes in one update: one browser history entry per view
