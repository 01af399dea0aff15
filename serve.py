"""The hosted demo's entry point: ``streamlit run serve.py`` serves streamlit_app.py behind security headers
(explorer/app/headers.py: CSP, X-Frame-Options, X-Content-Type-Options, no public /_stcore/metrics).
``streamlit run streamlit_app.py`` still works for development, without them."""
import streamlit as st
from starlette.middleware import Middleware

from explorer.app.headers import SecurityHeaders

app = st.App("streamlit_app.py", middleware=[Middleware(SecurityHeaders)])
