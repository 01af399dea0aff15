"""Issue 13's bar for the committed confidence GANs, measured with the model and its judge as at export:
each request keeps the closest of the card's candidates (docs/results.md, "Reaching the top of the range")."""
from __future__ import annotations

import pytest

from explorer.metrics.confidence import link_metrics, measure_link
from explorer.runtime.models import DEFAULT_ROOT, Model

MODELS = ["credit-g-confgan", "diabetes-confgan"]
MAX_ERROR = 0.08  # mean absolute error between requested and achieved over requests 0.05-0.95
MIN_TOP = 0.85  # mean achieved confidence of rows asked for 0.95


def measured(model_id: str) -> tuple[dict, dict]:
    """What the model does, measured as at export, and what its card says."""
    if not (DEFAULT_ROOT / model_id / "card.json").is_file():
        pytest.skip(f"{model_id} is not committed")
    model = Model.load(model_id, DEFAULT_ROOT)
    _, link = measure_link(model, seed=0)  # 19 levels x 200 rows, the export's measurement
    return link_metrics(link["requested"].to_numpy(), link["achieved"].to_numpy()), model.card.metrics["confidence"]


@pytest.mark.parametrize("model_id", MODELS)
def test_the_card_records_the_reach_the_model_has(model_id):
    """The app states the reachable range from the card: it must be the model's own."""
    found, card = measured(model_id)
    assert found["mean_absolute_error"] == pytest.approx(card["mean_absolute_error"], abs=1e-6)
    for level, figures in found["per_level"].items():
        assert figures["mean"] == pytest.approx(card["per_level"][level]["mean"], abs=1e-6)


@pytest.mark.parametrize("model_id", MODELS)
def test_committed_confidence_model_reaches_the_requested_range(model_id):
    found, _ = measured(model_id)
    assert found["mean_absolute_error"] <= MAX_ERROR
    assert found["per_level"]["0.95"]["mean"] >= MIN_TOP
