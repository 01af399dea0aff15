"""GAN Explorer: the entry point. ``streamlit run streamlit_app.py``

Registers the pages (one file each in pages/) with st.navigation; every page takes its state
from the URL (?model=…&seed=…&condition=…) so a view can be shared. No torch on this side.
"""
import importlib
import sys
import threading
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `streamlit run` from another folder, AppTest
    sys.path.insert(0, str(ROOT))

st.set_page_config(page_title="GAN Explorer", page_icon=":material/scatter_plot:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/sample.py", title="Sample", icon=":material/casino:", url_path="sample"),
    st.Page("pages/condition.py", title="Condition", icon=":material/tune:", url_path="condition"),
    st.Page("pages/interpolate.py", title="Interpolate", icon=":material/timeline:", url_path="interpolate"),
    st.Page("pages/diagnostics.py", title="Diagnostics", icon=":material/troubleshoot:", url_path="diagnostics"),
    st.Page("pages/training.py", title="Training", icon=":material/show_chart:", url_path="training"),
]


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per server process, after the first page is drawn: import the diagnostics stack
    (scikit-learn, scipy, altair's schema) in the background, so the first Diagnostics view
    does not pay ~1.5 s of imports. Pages that need it simply wait on Python's import lock."""
    def load():
        for name in ("explorer.charts", "explorer.app_diagnostics", "explorer.datasets"):
            importlib.import_module(name)
    thread = threading.Thread(target=load, name="gan-explorer-warm-up", daemon=True)
    thread.start()
    return thread


st.navigation(PAGES).run()
warm_up()
