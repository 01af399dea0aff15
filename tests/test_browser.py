"""End to end in headless Chromium: `streamlit run` serves the app, every page renders without an
exception, sliders and inputs change what is drawn, the URL carries the state, and a screenshot
of each page lands in docs/.

Needs /usr/bin/chromium (`apt-get install -y chromium`) and the playwright package (its bundled
browsers are not used). Models: $GAN_EXPLORER_MODELS when set, else the committed exported/,
else the quick diabetes models trained by the conftest fixture.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = playwright.expect
expect.set_options(timeout=30_000)  # assertions wait for Streamlit reruns on a busy 2-core machine

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {"home": ("", "GAN Explorer"), "sample": ("sample", "Sample"), "condition": ("condition", "Condition"),
         "interpolate": ("interpolate", "Interpolate"), "diagnostics": ("diagnostics", "Diagnostics"),
         "training": ("training", "Training")}
SLOW = 90_000  # ms: first diagnostics on a busy 2-core machine


@pytest.fixture(scope="module")
def models(request) -> Path:
    if os.environ.get("GAN_EXPLORER_MODELS"):
        return Path(os.environ["GAN_EXPLORER_MODELS"])
    if any((ROOT / "exported").glob("*/card.json")):
        return ROOT / "exported"
    return request.getfixturevalue("quick_models")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(models, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "GAN_EXPLORER_MODELS": str(models)}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                                 "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read().strip() == b"ok":
                break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not become healthy:\n{log.read_text()}")
        time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def page(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 1500})
        tab.set_default_timeout(SLOW)
        yield tab
        browser.close()


def settle(tab, title: str | None = None) -> None:
    """Wait until the script run is over and the charts have drawn."""
    if title:
        expect(tab.get_by_role("heading", name=title, level=1)).to_be_visible()
    tab.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")
    tab.wait_for_timeout(800)
    tab.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")
    assert tab.locator('[data-testid="stException"]').count() == 0, tab.locator('[data-testid="stException"]').first.inner_text()


def conditional(models: Path) -> str | None:
    ids = sorted(p.name for p in models.glob("*-cgan") if (p / "card.json").is_file())
    return ids[0] if ids else None


def any_model(models: Path) -> str:
    return conditional(models) or sorted(p.parent.name for p in models.glob("*/card.json"))[0]


def test_home_links_carry_the_model(page, server, models):
    page.goto(server)
    settle(page, "GAN Explorer")
    ids = sorted(p.parent.name for p in models.glob("*/card.json"))
    link = page.locator(f'a[href$="diagnostics?model={ids[-1]}"]')
    expect(link).to_have_count(1)
    link.click()
    settle(page, "Diagnostics")
    assert f"model={ids[-1]}" in page.url
    expect(page.get_by_role("combobox", name="Model")).to_have_value(re.compile(rf"\({re.escape(ids[-1])}\)$"))


def test_every_page_renders_and_is_screenshotted(page, server, models):
    DOCS.mkdir(exist_ok=True)
    for name, (path, title) in PAGES.items():
        query = f"?model={any_model(models)}" if name in ("condition", "diagnostics") else ""
        page.goto(f"{server}/{path}{query}")
        settle(page, title)
        if name == "diagnostics" or (name == "condition" and conditional(models)):
            expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
        if name in ("home", "sample", "interpolate") or (name == "condition" and conditional(models)):
            expect(page.locator('[data-testid="stDataFrame"]').last).to_be_visible()
            page.wait_for_timeout(500)  # let the grids paint before the screenshot
        page.screenshot(path=str(DOCS / f"screenshot-{name}.png"))


def test_interpolate_slider_redraws_chart_and_table(page, server, models):
    page.goto(f"{server}/interpolate?model={any_model(models)}")
    settle(page, "Interpolate")
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(page.get_by_text("8 steps")).to_be_visible()
    chart_before, table_before = chart.screenshot(), table.screenshot()
    page.wait_for_selector('[data-testid="stSlider"]')
    slider = page.get_by_role("slider", name="Steps")
    slider.focus()
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    expect(page.get_by_text("10 steps")).to_be_visible()
    settle(page)
    assert "steps=10" in page.url
    assert chart.screenshot() != chart_before
    assert table.screenshot() != table_before


def test_condition_mix_slider_changes_counts(page, server, models):
    model_id = conditional(models)
    if model_id is None:
        pytest.skip(f"no conditional model in {models}")
    page.goto(f"{server}/condition?model={model_id}&n=1000")
    settle(page, "Condition")
    page.get_by_text("Class mix", exact=True).click()
    settle(page)
    page.wait_for_selector('[data-testid="stSlider"]')
    counts = page.get_by_text("Exact rows per class")
    before = counts.inner_text()
    slider = page.get_by_role("slider", name="Share of")
    slider.focus()
    for _ in range(5):
        slider.press("ArrowLeft")
    expect(counts).not_to_have_text(before)
    settle(page)
    assert "condition=" in page.url


def test_sample_seed_and_bad_url(page, server, models):
    page.goto(f"{server}/sample?model=no-such-model")
    settle(page, "Sample")
    expect(page.get_by_text("Unknown model 'no-such-model'")).to_be_visible()
    table = page.locator('[data-testid="stDataFrame"]').first
    before = table.screenshot()
    seed = page.get_by_role("spinbutton", name="Seed")
    seed.fill("12")
    seed.press("Enter")
    settle(page)
    assert "seed=12" in page.url
    assert table.screenshot() != before
    page.get_by_test_id("stSidebarNav").get_by_text("Interpolate").click()  # state follows to the next page
    settle(page, "Interpolate")
    assert "seed=12" in page.url
    expect(page.get_by_role("spinbutton", name="Seed A")).to_have_value("12")
    page.get_by_test_id("stSidebarNav").get_by_text("Sample").click()
    settle(page, "Sample")
    rows = page.get_by_role("spinbutton", name="Rows")
    rows.fill("500000")
    rows.press("Enter")
    settle(page)
    expect(page.get_by_text("100,000").first).to_be_visible()
