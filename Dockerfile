# The hosted GAN Explorer demo: the Streamlit app on the committed ONNX models, no torch.
#   docker build -t gan-explorer . && docker run -p 8501:8501 gan-explorer
# Real data for Diagnostics and the overlays: -v /path/to/data:/app/data:ro (else fetched from OpenML when online).
# tests/test_container.py executes these steps (fresh virtualenv, the COPY lines, the entrypoint, the
# health check) on machines without Docker; keep one instruction per line so it can follow them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    GAN_EXPLORER_DATA=/app/data \
    MALLOC_ARENA_MAX=2

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
WORKDIR /app

# Serving requirements only (onnxruntime-gpu: CUDA when the host has a GPU, CPU otherwise); torch is in
# requirements-dev.txt and never enters the image.
COPY requirements.txt requirements.txt
RUN pip install -r requirements.txt

# The app, its settings and the committed models; owned by root, so the app user cannot change them.
COPY .streamlit/config.toml .streamlit/config.toml
COPY streamlit_app.py streamlit_app.py
COPY serve.py serve.py
COPY app_pages/ app_pages/
COPY explorer/ explorer/
COPY exported/ exported/
COPY results/ results/
RUN mkdir -p /app/data && chown app:app /app/data

USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read().strip() != b'ok')"]
# serve.py: streamlit_app.py behind security headers (CSP, X-Frame-Options, nosniff; /_stcore/metrics not public)
ENTRYPOINT ["streamlit", "run", "serve.py", "--server.address=0.0.0.0", "--server.port=8501"]
