"""The app's digit views through streamlit.testing.v1.AppTest, on the committed MNIST models in
exported/ (skipped when none is committed): Home's image metrics, Diagnostics (judged digits,
nearest training image, live Fréchet / precision / recall / detection), Interpolate between two
real test images, Condition's one-digit view and 10 × k grid. Controls change the output; bad
input gives a message; without MNIST data the model-only views still work and explain.

``GAN_EXPLORER_DIGIT_MODELS`` points the tests at another folder of exported digit models.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_app import open_page, texts  # tests/ is on sys.path (pytest's rootdir-relative import)

ROOT = Path(__file__).resolve().parent.parent
MODELS = Path(os.environ.get("GAN_EXPLORER_DIGIT_MODELS", ROOT / "exported"))
N = 200  # samples per diagnostic: enough to exercise everything, quick on 2 cores


def image_models() -> dict[str, dict]:
    cards = {}
    for path in sorted(MODELS.glob("*/card.json")):
        card = json.loads(path.read_text())
        if card.get("kind") == "image" and "classifier" in card.get("files", {}):
            cards[path.parent.name] = card
    return cards


CARDS = image_models()
pytestmark = pytest.mark.skipif(not CARDS, reason=f"no MNIST model with a judge in {MODELS}")


def pick(conditional: bool | None = None, latent: bool | None = None) -> str:
    for model_id, card in CARDS.items():
        if conditional is not None and bool(card.get("condition")) != conditional:
            continue
        if latent is not None and ("encoder" in card["files"]) != latent:
            continue
        return model_id
    pytest.skip(f"no digit model with conditional={conditional}, latent={latent} in {MODELS}")


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(MODELS))


@pytest.fixture
def no_data(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("GAN_EXPLORER_DATA", str(tmp_path / "file" / "data"))  # cannot exist, cannot download


def specs(at: AppTest) -> list[str]:
    return [c.proto.spec for c in at.get("vega_lite_chart")]


def sources(at: AppTest, i: int) -> set[str]:
    """The ``source`` values (real / synthetic) in the data of chart i."""
    import pyarrow as pa
    frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in at.get("vega_lite_chart")[i].proto.datasets]
    return {v for f in frames if "source" in f for v in f["source"]}


def captions(at: AppTest) -> list[str]:
    return [i.proto.imgs[0].caption for i in at.image]


def pictures(at: AppTest) -> list[str]:
    return [i.proto.imgs[0].url for i in at.image]


# ------------------------------------------------------------------ library pieces (no app)
def test_headline_and_helpers():
    from explorer.app import digits as dd
    from explorer.app import state
    from explorer.metrics import digits as dm

    assert dd.CONFIDENT == dm.CONFIDENT
    for card in CARDS.values():
        head = state.headline(card["metrics"])
        assert {"frechet_vs_reference", "precision", "recall"} <= set(head)
        assert ("conditional_accuracy" in head) == bool(card.get("condition"))
    assert state.headline({"detection_rf_auc": 0.61234, "precision": 0.5}) == {"detection_rf_auc": 0.612}
    probs = np.eye(10)[[0, 0, 1, 2]]
    matrix = dd.digit_matrix(probs, np.array([0, 1, 1, 2]))
    cell = matrix.set_index(["requested", "judged"])["share"]
    assert cell[("0", "0")] == 1 and cell[("1", "0")] == 0.5 and cell[("1", "1")] == 0.5 and cell[("3", "3")] == 0
    assert dd.parse_index("17", 10_000) == 17
    for bad in (-1, 10_000, 2.5, "x", None, True):
        with pytest.raises(ValueError, match="0 to 9,999|whole number"):
            dd.parse_index(bad, 10_000)


# ------------------------------------------------------------------ Home
def test_home_shows_image_metrics_and_previews():
    at = open_page()
    table = next(d.value for d in at.dataframe if "Fréchet × real ↓" in d.value)
    assert {"Precision ↑", "Recall ↑"} <= set(table.columns) and len(table) == len(CARDS)
    if any(c.get("condition") for c in CARDS.values()):
        assert table["Right digit ↑"].notna().any()
    assert len(at.image) == len(CARDS)  # a preview of each


# ------------------------------------------------------------------ Diagnostics
def test_diagnostics_conditional_matrix_and_confidence():
    model_id = pick(conditional=True)
    at = open_page("diagnostics", model=model_id, n=N)
    assert not at.error
    labels = [m.label for m in at.metric]
    assert "Conditional accuracy" in labels and any(label.startswith("Worst digit") for label in labels)
    matrix, confidence = specs(at)
    assert "requested digit" in matrix and "judged digit" in matrix
    assert "Classifier confidence" in confidence and sources(at, 1) == {"real", "synthetic"}  # real test images too
    at.number_input(key="diagnostics:seed").set_value(5).run()
    assert not at.exception and specs(at)[1] != confidence  # another sample, another histogram
    assert at.query_params["seed"] == "5"


def test_diagnostics_unconditional_judged_digit_distribution():
    model_id = pick(conditional=False)
    at = open_page("diagnostics", model=model_id, n=N)
    assert any(m.label.startswith("Most common judged digit") for m in at.metric)
    assert "digit the judge sees" in specs(at)[0] and "requested digit" not in specs(at)[0]
    assert sources(at, 0) == {"real", "synthetic"}  # judged digits beside the real test digits


def test_diagnostics_nearest_training_image():
    model_id = pick()
    at = open_page("diagnostics", model=model_id, n=N, section="Nearest real image")
    assert len(at.image) == 8
    assert all("→ train #" in c and "distance" in c for c in captions(at))
    assert "median distance" in texts(at.caption)
    at.slider(key="diagnostics:neighbours").set_value(3).run()
    assert not at.exception and len(at.image) == 3
    first = pictures(at)
    at.number_input(key="diagnostics:seed").set_value(9).run()
    assert pictures(at) != first


def test_diagnostics_feature_metrics_beside_reference_and_card():
    model_id = pick()
    at = open_page("diagnostics", model=model_id, n=N, section="Fréchet, precision, recall")
    assert [m.label for m in at.metric] == ["Fréchet distance", "Precision", "Recall", "Detection AUC"]
    assert all("reference" in m.proto.delta for m in at.metric)
    table = at.dataframe[0].value
    assert list(table["measured"][:2]) == [f"now: model, {N} samples", f"now: real train vs test, {N} images"]
    assert any(table["measured"].str.startswith("at export"))  # the card's figures beside the live ones
    assert table[["frechet", "precision", "recall", "detection_auc"]].notna().all().all()


def test_diagnostics_discriminator_fooled_rate():
    model_id = pick()
    at = open_page("diagnostics", model=model_id, n=N, section="Discriminator")
    assert [m.label for m in at.metric] == ["Fooled rate"]
    assert "own discriminator" in specs(at)[0] and sources(at, 0) == {"real", "synthetic"}
    before = at.metric[0].value, specs(at)[0]
    at.number_input(key="diagnostics:seed").set_value(4).run()
    assert not at.exception and specs(at)[0] != before[1]


@pytest.mark.slow  # 5 s of CPU: the clamped request still measures 5,000 digits
def test_diagnostics_bad_inputs():
    model_id = pick()
    at = open_page("diagnostics", model=model_id, n=N)
    at.number_input(key="diagnostics:n").set_value(9000).run()
    assert "5,000" in texts(at.info) and not at.exception and at.number_input(key="diagnostics:n").value == 5000
    at = open_page("diagnostics", model=model_id, n="lots")
    assert "= `'lots'`" in texts(at.error)


@pytest.mark.slow  # 3-4 s: an app run without the real data, in the full suite only
def test_diagnostics_without_mnist_data_still_judges_samples(no_data):
    model_id = pick()
    at = open_page("diagnostics", model=model_id, n=N)
    assert "GAN_EXPLORER_DATA" in texts(at.info) and at.metric and len(specs(at)) == 2
    assert sources(at, 1) == {"synthetic"}
    at.radio(key="diagnostics:digit-section").set_value("Nearest real image").run()
    assert "GAN_EXPLORER_DATA" in texts(at.warning) and "OpenML" in texts(at.warning) and not at.image


# ------------------------------------------------------------------ Interpolate
def test_interpolate_between_two_real_test_images():
    model_id = pick(latent=True)
    at = open_page("interpolate", model=model_id)
    seeds = pictures(at)
    assert len(seeds) == 8
    at.radio(key="interpolate:between").set_value("two real test images").run()
    assert not at.exception and len(at.image) == 2 + 8
    shown = captions(at)
    assert shown[0].startswith("A: test #0 (digit ") and shown[1].startswith("B: test #1 (digit ")
    assert all(re.fullmatch(r"step \d+: \d \(\d+%\)", c) for c in shown[2:])
    assert at.query_params["between"] == "two real test images"
    before = pictures(at)
    at.number_input(key="interpolate:image_b").set_value(42).run()
    after = pictures(at)
    assert after[0] == before[0] and after[1] != before[1] and after[-1] != before[-1]
    at.radio(key="interpolate:method").set_value("linear").run()
    assert pictures(at)[3:-1] != after[3:-1]  # inner frames move, the ends stay
    assert pictures(at)[2] == after[2]
    at.slider(key="interpolate:steps").set_value(4).run()
    assert len(at.image) == 2 + 4
    at.number_input(key="interpolate:image_a").set_value(10_000).run()
    assert "0 to 9,999" in texts(at.error) and len(at.image) == 0 and not at.exception


@pytest.mark.slow  # 3-4 s: an app run without the real data, in the full suite only
def test_interpolate_real_images_bad_url_and_no_data(no_data):
    model_id = pick(latent=True)
    at = open_page("interpolate", model=model_id, between="two real test images", image_a=-3)
    assert "Test image A from the link" in texts(at.error) and "0 to 9,999" in texts(at.error)
    assert "GAN_EXPLORER_DATA" in texts(at.warning)  # no data: the real-image path explains itself
    at.radio(key="interpolate:between").set_value("two seeds").run()
    assert len(at.image) == 8 and not at.warning  # generated-seed mode needs no data


def test_interpolate_pixel_model_has_no_real_image_mode():
    model_id = pick(latent=False)
    at = open_page("interpolate", model=model_id)
    assert not any(r.label == "Between" for r in at.radio) and len(at.image) == 8


# ------------------------------------------------------------------ Condition
def test_condition_one_digit_and_grid():
    model_id = pick(conditional=True)
    at = open_page("condition", model=model_id, condition="7", n=50)
    assert captions(at) == ["50 samples, digit 7, seed 0"]
    assert "labels" in texts(at.caption) and "as the digit asked for" in texts(at.caption)
    seven = pictures(at)
    at.selectbox(key="condition:class").select("3").run()
    assert pictures(at) != seven and at.query_params["condition"] == "3"
    at.radio(key="condition:mode").set_value("Every digit (10 × k grid)").run()
    assert captions(at) == ["10 × 8: row = digit asked for, seed 0"] and at.query_params["grid"] == "8"
    assert "9: " in texts(at.caption)  # per-digit judge accuracy
    grid8 = pictures(at)
    at.slider(key="condition:k").set_value(3).run()
    assert captions(at) == ["10 × 3: row = digit asked for, seed 0"] and pictures(at) != grid8
    at.radio(key="condition:mode").set_value("One class").run()
    assert "grid" not in at.query_params


def test_condition_bad_inputs():
    model_id = pick(conditional=True)
    at = open_page("condition", model=model_id, grid=99)
    assert "images per digit must be a whole number from 1 to 20" in texts(at.error)
    assert captions(at) == ["10 × 8: row = digit asked for, seed 0"]
    at = open_page("condition", model=model_id, condition="7", n=5000)
    assert "5,000" in texts(at.info) and "1,000" in texts(at.info) and len(at.image) == 1
    at = open_page("condition", model=model_id, condition="eleven")
    assert "unknown class `'eleven'`" in texts(at.error)


def test_too_few_samples_are_said_not_shown_as_figures():
    model_id = pick(conditional=True)
    at = open_page("diagnostics", model=model_id, n=100)
    worst = next(m for m in at.metric if m.label.startswith("Worst digit"))
    assert worst.value == "—" and "samples per digit" in worst.help
    at.radio(key="diagnostics:digit-section").set_value("Fréchet, precision, recall").run()
    assert "few for these figures" in texts(at.warning)
    at = open_page("diagnostics", model=model_id, n=500)  # 50 a digit: the least that shows the figure
    assert next(m for m in at.metric if m.label.startswith("Worst digit")).value != "—"
