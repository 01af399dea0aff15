"""Issue 16.8 and 16.4 in a real browser: ``streamlit run serve.py`` (the demo container's entry point)
sends a Content-Security-Policy, X-Frame-Options and X-Content-Type-Options on every page, keeps
/_stcore/metrics private, and the app still renders everything under that policy (tables, Vega charts,
images) with no violation in the console. A crafted link's markdown neither becomes a link or an image
in the page nor makes the browser fetch anything from the crafted host.
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from explorer.app.server import free_port, serve

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
HOST = "127.0.0.1:9"
CRAFTED = [f"[Session expired - click here](http://{HOST}/x)", f"![x](http://{HOST}/i.png)",
           f"<img src=http://{HOST}/h.png>", f"http://{HOST}/auto"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not (ROOT / "exported" / "mnist-pixel-cgan" / "card.json").is_file():
        pytest.skip("needs the committed models")
    port = free_port()
    env = {**os.environ, "GAN_EXPLORER_MODELS": str(ROOT / "exported")}
    command = [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    with serve(command, port, ROOT, env, tmp_path_factory.mktemp("serve") / "server.log", timeout=120) as (base, _):
        yield base


@pytest.mark.slow
def test_security_headers_and_private_metrics(server):
    for path in ("/", "/sample", "/_stcore/health", "/static/js/" + "missing.js"):
        try:
            headers = urllib.request.urlopen(server + path, timeout=30).headers
        except urllib.error.HTTPError as exc:  # a 404 carries them too
            headers = exc.headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "img-src 'self' data: blob: https://fonts.gstatic.com;" in csp, path
    for path in ("/_stcore/metrics", "/_stcore/metrics/"):
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(server + path, timeout=30)


@pytest.mark.slow
def test_pages_render_under_the_policy_and_crafted_links_stay_text(server):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent")
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)
            violations, crafted_requests = [], []
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.on("request", lambda r: crafted_requests.append(r.url) if HOST in r.url else None)

            page.goto(f"{server}/diagnostics?model=diabetes-gan&n=500")
            expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible(timeout=180_000)
            page.goto(f"{server}/condition?model=mnist-pixel-cgan&n=20")
            expect(page.locator('[data-testid="stImage"] img').first).to_be_visible(timeout=180_000)
            assert page.locator('[data-testid="stImage"] img').first.evaluate("i => i.naturalWidth") > 0

            for crafted in CRAFTED:
                page.goto(f"{server}/sample?" + urllib.parse.urlencode({"model": crafted}))
                alert = page.locator('[data-testid="stAlert"]').filter(has_text="Unknown model").first
                expect(alert).to_be_visible(timeout=180_000)
                expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=180_000)  # fell back to a model
                assert page.locator(f'a[href*="{HOST}"]').count() == 0, crafted
                assert page.locator(f'img[src*="{HOST}"]').count() == 0, crafted
                assert HOST in alert.inner_text()  # shown as text
            assert not crafted_requests and not violations, (crafted_requests, violations[:5])
        finally:
            browser.close()
