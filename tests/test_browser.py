"""End to end in headless Chromium: `streamlit run` serves the app, every page renders without an
exception, sliders and inputs change what is drawn, the URL carries the state, and a screenshot
of each page is taken: into a temporary folder, or into $GAN_EXPLORER_SCREENSHOTS when set
(``python scripts/refresh_screenshots.py`` sets it to docs/ to refresh the documentation's pictures).

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

pytestmark = pytest.mark.slow  # a Streamlit server and Chromium: minutes on a shared 2-core machine

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS_ENV = "GAN_EXPLORER_SCREENSHOTS"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {"home": ("", "GAN Explorer"), "sample": ("sample", "Sample"), "condition": ("condition", "Condition"),
         "interpolate": ("interpolate", "Interpolate"), "diagnostics": ("diagnostics", "Diagnostics"),
         "training": ("training", "Training")}
SLOW = 90_000  # ms: first diagnostics on a busy 2-core machine


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the page walk saves its screenshots; never a tracked folder unless asked for."""
    if os.environ.get(SCREENSHOTS_ENV):
        folder = Path(os.environ[SCREENSHOTS_ENV])
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


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


def test_every_page_renders_and_is_screenshotted(page, server, models, shots):
    for name, (path, title) in PAGES.items():
        query = f"?model={any_model(models)}" if name in ("condition", "diagnostics") else ""
        page.goto(f"{server}/{path}{query}")
        settle(page, title)
        if name == "diagnostics" or (name == "condition" and conditional(models)):
            expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
        if name in ("home", "sample", "interpolate") or (name == "condition" and conditional(models)):
            expect(page.locator('[data-testid="stDataFrame"]').last).to_be_visible()
            page.wait_for_timeout(500)  # let the grids paint before the screenshot
        page.screenshot(path=str(shots / f"screenshot-{name}.png"))


def test_diagnostics_trend_heatmap_and_worst_pairs(page, server, models, shots):
    """The Trend section as a person sees it: both scores, the labelled heatmap, the worst pairs."""
    page.goto(f"{server}/diagnostics?model={any_model(models)}&section=Trend")
    settle(page, "Diagnostics")
    expect(page.get_by_text("Real data's own Trend")).to_be_visible()
    expect(page.get_by_text("Worst pairs", exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]').last).to_be_visible()
    page.wait_for_timeout(800)  # let the heatmap and the grid paint before the screenshot
    page.screenshot(path=str(shots / "screenshot-diagnostics-trend.png"))


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


def test_rows_like_this_one(page, server, models, shots):
    model_id = next((p.name for p in sorted(models.glob("*-icgan")) if (p / "card.json").is_file()), None)
    need(model_id, models, "instance-conditioned model")
    page.goto(f"{server}/condition?model={model_id}&n=200")
    settle(page, "Condition")
    chosen = page.locator('[data-testid="stDataFrame"]').nth(1)  # [0]: the rows to find one by its values (folded)
    before = chosen.screenshot()
    page.get_by_text("Holdout rows (never seen in training)").click()
    settle(page)
    row = page.get_by_role("spinbutton", name="Row number")
    row.fill("42")
    row.press("Enter")
    page.wait_for_function("/row=holdout(%3A|:)42/.test(location.search)")  # the rerun may start late on a busy machine
    settle(page)
    assert chosen.screenshot() != before
    expect(page.get_by_text("ratio (≤ 0.5 = like this row)")).to_be_visible()
    page.screenshot(path=str(shots / "screenshot-rows-like-this-one.png"))


# ------------------------------------------------------------------ digit models (kind "image")
def digit_model(models: Path, conditional: bool | None = None, latent: bool | None = None) -> str | None:
    """First exported digit model with a judge classifier (and the asked-for traits), or None."""
    import json
    for path in sorted(models.glob("*/card.json")):
        card = json.loads(path.read_text())
        files = card.get("files", {})
        if card.get("kind") != "image" or "classifier" not in files:
            continue
        if conditional is not None and bool(card.get("condition")) != conditional:
            continue
        if latent is not None and ("encoder" in files) != latent:
            continue
        return path.parent.name
    return None


def need(model_id: str | None, models: Path, what: str) -> str:
    if model_id is None:
        pytest.skip(f"no {what} in {models}")
    return model_id


def images(tab):
    return tab.locator('[data-testid="stImage"] img')


def test_digit_condition_grid_slider(page, server, models, shots):
    model_id = need(digit_model(models, conditional=True), models, "conditional digit model")
    page.goto(f"{server}/condition?model={model_id}&grid=6")
    settle(page, "Condition")
    expect(page.get_by_text("10 × 6: row = digit asked for")).to_be_visible()
    before = images(page).first.screenshot()
    page.wait_for_selector('[data-testid="stSlider"]')
    slider = page.get_by_role("slider", name="Images per digit")
    slider.focus()
    for _ in range(4):
        slider.press("ArrowRight")
    expect(page.get_by_text("10 × 10: row = digit asked for")).to_be_visible()
    settle(page)
    assert "grid=10" in page.url
    assert images(page).first.screenshot() != before
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "screenshot-digits-condition.png"))


def test_digit_interpolate_between_real_test_images(page, server, models, shots):
    model_id = need(digit_model(models, latent=True), models, "latent-space digit model")
    page.goto(f"{server}/interpolate?model={model_id}&between=two%20real%20test%20images&image_a=3&image_b=7&steps=8")
    settle(page, "Interpolate")
    expect(page.get_by_text("A: test #3 (digit ")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^step 7: \d \(\d+%\)$"))).to_be_visible()
    expect(images(page)).to_have_count(2 + 8)
    page.wait_for_selector('[data-testid="stSlider"]')
    slider = page.get_by_role("slider", name="Steps")
    slider.focus()
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    expect(images(page)).to_have_count(2 + 10)
    settle(page)
    assert "steps=10" in page.url
    second = images(page).nth(1).screenshot()
    box = page.get_by_role("spinbutton", name="Test image B")
    box.fill("10000")
    box.press("Enter")
    expect(page.get_by_text("0 to 9,999")).to_be_visible()
    box.fill("12")
    box.press("Enter")
    expect(page.get_by_text("B: test #12 (digit ")).to_be_visible()
    settle(page)
    assert images(page).nth(1).screenshot() != second
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "screenshot-digits-interpolate.png"))


def test_digit_diagnostics_sections(page, server, models, shots):
    model_id = need(digit_model(models, conditional=True) or digit_model(models), models, "digit model")
    page.goto(f"{server}/diagnostics?model={model_id}&n=1000")
    settle(page, "Diagnostics")
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(2, timeout=SLOW)  # 3,000 images judged
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible()
    page.wait_for_timeout(1000)  # let the charts paint before the screenshot
    page.screenshot(path=str(shots / "screenshot-digits-diagnostics.png"))

    page.get_by_text("Nearest real image", exact=True).click()
    settle(page)
    expect(images(page)).to_have_count(8, timeout=SLOW)  # first search builds the 60,000-image index
    expect(page.get_by_text("median distance", exact=False)).to_be_visible()
    page.wait_for_selector('[data-testid="stSlider"]')
    slider = page.get_by_role("slider", name="Samples")
    slider.focus()
    for _ in range(4):
        slider.press("ArrowRight")
    expect(images(page)).to_have_count(12)
    settle(page)
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "screenshot-digits-nearest.png"))

    page.get_by_text("Fréchet, precision, recall", exact=True).click()
    settle(page)
    expect(page.get_by_text("random real training images measured the same way", exact=False)).to_be_visible(
        timeout=SLOW)  # Fréchet, k-NN and a 5-fold detector on 2,000 feature vectors
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(4)
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "screenshot-digits-metrics.png"))
