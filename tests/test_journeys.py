"""Analyst journeys in headless Chromium, on the committed models: each prints how many clicks (and typed
values) it took and how long, so a slower or longer path shows in the log.

    pytest -m slow tests/test_journeys.py -s

Screenshots of each journey's end go to a temporary folder (scripts/refresh_screenshots.py writes docs/).
"""
from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from test_browser import ARGS, CHROMIUM, SLOW, expect, free_port, playwright, server  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
EXPORTED = ROOT / "exported"
pytestmark = pytest.mark.slow
CARDS = {p.parent.name: json.loads(p.read_text()) for p in sorted(EXPORTED.glob("*/card.json"))}
if not CARDS:
    pytest.skip("no committed models in exported/", allow_module_level=True)


@pytest.fixture(scope="module")
def models() -> Path:
    return EXPORTED


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1400}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(SLOW)
    yield page
    context.close()


class Journey:
    """Counts what a person does (clicks, typed values) and times the journey; prints both at the end."""

    def __init__(self, name: str, tab, base: str):
        self.name, self.tab, self.base, self.clicks, self.start = name, tab, base, 0, time.perf_counter()

    def settle(self) -> None:
        t = self.tab
        t.wait_for_timeout(800)  # the run starts, and Streamlit shows its running indicator
        t.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=SLOW)
        t.wait_for_timeout(500)
        t.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=SLOW)
        errors = t.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
        assert errors.count() == 0, errors.first.inner_text()

    def click(self, locator) -> None:
        self.clicks += 1
        locator.click()
        self.settle()

    def type(self, locator, value) -> None:
        self.clicks += 1
        locator.fill(str(value))
        locator.press("Enter")
        self.settle()

    def pick_model(self, model_id: str) -> None:
        """The model select box: open it, pick the model by its id (two clicks)."""
        self.clicks += 2
        self.tab.get_by_role("combobox", name="Model").click()
        self.tab.get_by_role("option").filter(has_text=f"({model_id})").first.click()
        self.tab.wait_for_function(f"location.search.includes('model={model_id}')", timeout=SLOW)
        self.settle()

    def slide(self, label: str, presses: int, key: str = "ArrowRight") -> None:
        """A slider moved with the keyboard: one grab, then the arrow presses."""
        self.clicks += 1
        slider = self.tab.get_by_role("slider", name=label)
        slider.focus()
        for _ in range(presses):
            slider.press(key)
        self.settle()

    def done(self, tmp_path: Path) -> None:
        seconds = time.perf_counter() - self.start
        self.tab.screenshot(path=str(tmp_path / f"{re.sub(r'[^a-z0-9]+', '-', self.name.lower())}.png"))
        print(f"\njourney: {self.name}: {self.clicks} clicks/typed values, {seconds:.1f} s")


def home(tab, base: str, name: str) -> Journey:
    tab.goto(base)
    expect(tab.get_by_role("heading", name="GAN Explorer", level=1)).to_be_visible()
    journey = Journey(name, tab, base)
    journey.settle()
    return journey


def best(dataset: str, kind: str, metric: str = "efficacy_ratio") -> str:
    """The model Home's table marks best in ``metric`` among a dataset's models of one kind."""
    ids = [i for i, c in CARDS.items() if c["dataset"] == dataset and (c.get("condition") or {}).get("type") == kind]
    if not ids:
        pytest.skip(f"no {kind}-conditioned {dataset} model")
    return max(ids, key=lambda i: CARDS[i]["metrics"][metric])


def first(predicate) -> str:
    found = [i for i, c in CARDS.items() if predicate(c)]
    if not found:
        pytest.skip("no committed model of this kind")
    return found[0]


def test_best_adult_cgan_to_10000_rows_of_the_rich_as_csv(tab, server, tmp_path):
    model_id = best("adult", "label")
    j = home(tab, server, "best Adult cGAN → 10,000 rows of >50K as CSV")
    j.click(tab.locator(f'a[href$="condition?model={model_id}"]').first)  # from the gallery under the table
    expect(tab.get_by_role("combobox", name=re.compile("income"))).to_have_value(">50K")  # the minority: default
    j.type(tab.get_by_role("spinbutton", name="Rows"), 10_000)
    with tab.expect_download() as download:
        j.clicks += 1
        tab.get_by_role("button", name="Download CSV").click()
    rows = pd.read_csv(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert len(rows) == 10_000 and (rows["income"] == ">50K").all() and rows["age"].dtype.kind == "i"
    name = download.value.suggested_filename
    assert model_id in name and "gt50K" in name and "seed0" in name and "n10000" in name
    assert j.clicks <= 3, j.clicks
    j.done(tmp_path)


PRIVACY_FIGURES = "The field's privacy figures, beside real data's own"


def test_is_it_realistic_every_diagnostics_section(tab, server, tmp_path):
    model_id = best("adult", "label")
    j = home(tab, server, "is the best Adult cGAN realistic? every Diagnostics section")
    j.click(tab.locator(f'a[href$="diagnostics?model={model_id}"]').first)
    expect(tab.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    for section, sign in [("Trend", "Real data's own Trend"), ("Detection", "Detection AUC (RF)"),
                          ("Utility", "Efficacy ratio"), ("Privacy", PRIVACY_FIGURES),
                          ("Per class", "Measured now")]:
        t = time.perf_counter()
        j.click(tab.get_by_text(section, exact=True))
        expect(tab.get_by_text(sign).first).to_be_visible()
        print(f"  {section}: {time.perf_counter() - t:.1f} s")
        if section == "Trend":  # the heatmap and the worst pairs, beside real data's own
            expect(tab.get_by_text("Worst pairs", exact=True)).to_be_visible()
            expect(tab.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
        if section == "Detection":  # gradient boosting and the real-vs-real references, on request
            t = time.perf_counter()
            j.click(tab.get_by_role("button", name=re.compile("Train a gradient-boosting detector")))
            expect(tab.get_by_text("Gradient boosting has no impurity importances", exact=False)).to_be_visible()
            expect(tab.get_by_role("button", name=re.compile("Train a gradient-boosting detector"))).to_be_disabled()
            print(f"  Detection, gradient boosting and references: {time.perf_counter() - t:.1f} s")
    j.click(tab.get_by_text("Distributions", exact=True))
    expect(tab.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    j.done(tmp_path)


def test_ninety_percent_bad_credit_rows_from_the_confidence_model(tab, server, tmp_path):
    model_id = first(lambda c: c["dataset"] == "credit-g" and (c.get("condition") or {}).get("type") == "confidence")
    j = home(tab, server, "90 % 'bad' credit rows from the confidence model")
    j.click(tab.locator(f'a[href$="condition?model={model_id}"]').first)
    j.slide("Target confidence", 8)  # 0.50 → 0.90 in steps of 0.05
    assert "confidence=0.90" in tab.url
    achieved = float(tab.get_by_test_id("stMetric").nth(1).get_by_test_id("stMetricValue").inner_text())
    warned = tab.get_by_text("beyond what this model can deliver").count() > 0
    assert warned or achieved >= 0.8, (achieved, "a shortfall must be said")
    with tab.expect_download() as download:
        j.clicks += 1
        tab.get_by_role("button", name="Download CSV").click()
    rows = pd.read_csv(download.value.path())
    assert "achieved_confidence" in rows and "confidence-0.90" in download.value.suggested_filename
    print(f"  mean achieved {achieved:.3f}" + (", with the reachable-range warning" if warned else ""))
    j.done(tmp_path)


def test_rows_like_a_real_person_found_by_filtering(tab, server, tmp_path):
    model_id = first(lambda c: (c.get("condition") or {}).get("type") == "instance" and c["dataset"] == "adult")
    j = home(tab, server, "rows like a real person found by filtering")
    j.click(tab.locator(f'a[href$="condition?model={model_id}"]').first)
    j.click(tab.get_by_text("Find a row by its values"))
    for label, value in [("Filter on", "sex"), ("Filter on", "occupation"), ("sex", "Female"),
                         ("occupation", "Tech-support")]:
        j.clicks += 1  # type the value into the multiselect, Enter picks it, Escape closes the list (and reruns)
        box = tab.get_by_role("combobox", name=label, exact=True)
        box.fill(value)
        box.press("Enter")
        box.press("Escape")
        j.settle()
    matches = tab.get_by_text(re.compile(r"^[\d,]+ of [\d,]+ rows match"))
    count = int(matches.inner_text().split(" of ")[0].replace(",", ""))
    assert 0 < count < 1000, count
    table = tab.locator('[data-testid="stDataFrame"]').first
    box = table.bounding_box()
    j.clicks += 1
    tab.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first match's row marker (header row is 35 px)
    j.settle()
    assert re.search(r"row=training(%3A|:)\d+", tab.url) and "row=training%3A0" not in tab.url, tab.url
    expect(tab.get_by_text("ratio (≤ 0.5 = like this row)")).to_be_visible()
    j.done(tmp_path)


def test_a_digit_grid_and_a_real_to_real_interpolation(tab, server, tmp_path):
    grid_model = first(lambda c: c["kind"] == "image" and (c.get("condition") or {}).get("type") == "label")
    latent = first(lambda c: c["kind"] == "image" and "encoder" in c.get("files", {}))
    j = home(tab, server, "a digit grid and a real-to-real interpolation")
    j.click(tab.locator(f'a[href$="condition?model={grid_model}"]').first)
    j.click(tab.get_by_text("Every digit (10 × k grid)", exact=True))
    expect(tab.get_by_text("10 × 8: row = digit asked for")).to_be_visible()
    j.click(tab.get_by_test_id("stSidebarNav").get_by_text("Interpolate"))
    if latent != grid_model:
        j.pick_model(latent)
    j.click(tab.get_by_text("two real test images", exact=True))
    expect(tab.get_by_text("A: test #0 (digit ")).to_be_visible()
    expect(tab.locator('[data-testid="stImage"] img')).to_have_count(2 + 8)
    j.done(tmp_path)


PAGE_CONTROLS = {"Sample": ("Rows", 2000), "Condition": ("Rows", 3000), "Interpolate": ("Seed A", 5),
                 "Diagnostics": ("Synthetic rows (and real rows, up to the holdout size)", 3000)}


def test_switching_between_table_and_digit_models_on_every_page(tab, server, tmp_path):
    table = best("adult", "label")
    digits = first(lambda c: c["kind"] == "image" and (c.get("condition") or {}).get("type") == "label")
    j = home(tab, server, "switching between table and digit models on every page, non-default controls")
    for page, (label, value) in PAGE_CONTROLS.items():
        tab.goto(f"{server}/{page.lower()}?model={table}")
        j.settle()
        j.type(tab.get_by_role("spinbutton", name=label), value)
        j.pick_model(digits)  # settle: no error box, no exception
        assert f"model={digits}" in tab.url and "condition=" not in tab.url
        j.pick_model(table)
        print(f"  {page}: table → digits → table without an error")
    j.done(tmp_path)


def test_back_and_forward_step_one_view_at_a_time(tab, server, tmp_path):
    model_id = best("adult", "label")
    j = home(tab, server, "Back and Forward")
    j.click(tab.locator(f'a[href$="sample?model={model_id}"]').first)
    j.type(tab.get_by_role("spinbutton", name="Seed"), 7)
    j.click(tab.get_by_test_id("stSidebarNav").get_by_text("Diagnostics"))
    tab.wait_for_function("location.search.includes('seed=7')", timeout=SLOW)  # the page completes its URL in place
    views = []
    for step in ("back", "back", "back", "forward"):
        j.clicks += 1
        (tab.go_back if step == "back" else tab.go_forward)()
        j.settle()
        views.append((tab.locator("h1").first.inner_text(), "seed=7" in tab.url))
    assert views == [("Sample", True), ("Sample", False), ("GAN Explorer", False), ("Sample", False)], views
    j.done(tmp_path)
