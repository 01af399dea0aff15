"""Every committed model follows the contract (explorer/contract.py, docs/contract.md, docs/card.schema.json)."""
import json
import shutil
import subprocess
import sys

import jsonschema
import numpy as np
import onnx
import pytest

from explorer.contract import Card, CardError, json_schema
from explorer.runtime.models import DEFAULT_ROOT, Model, ModelError, read_card

EXPECTED = [f"{d}-{a}" for d in ("adult", "credit-g", "diabetes") for a in ("gan", "cgan")]
CARDS = sorted(p.parent.name for p in DEFAULT_ROOT.glob("*/card.json"))
SCHEMA = DEFAULT_ROOT.parent / "docs" / "card.schema.json"


def _without_nulls(value):
    """An absent optional key and an explicit null mean the same in a card."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def test_the_six_tabular_models_are_committed():
    assert set(EXPECTED) <= set(CARDS)


def test_committed_schema_is_generated_from_the_contract():
    assert json.loads(SCHEMA.read_text()) == json_schema(), "run `python -m explorer.contract` and commit the schema"


@pytest.mark.parametrize("model_id", CARDS)
def test_card_and_files(model_id):
    folder = DEFAULT_ROOT / model_id
    raw = json.loads((folder / "card.json").read_text())
    jsonschema.validate(raw, json.loads(SCHEMA.read_text()))
    card = read_card(folder)  # raises on any sha256 mismatch or contract violation
    assert _without_nulls(card.to_dict()) == _without_nulls(raw), "the typed card must round-trip"
    assert card.id == model_id
    assert card.training.command.startswith("python -m training.")
    assert not card.training.code_version.endswith("-dirty")
    assert not list(folder.glob("*.data")), "weights must live inside the .onnx files"
    for entry in card.files.values():
        if entry.path.endswith(".onnx"):
            onnx.checker.check_model(onnx.load(str(folder / entry.path)), full_check=True)


@pytest.mark.parametrize("model_id", [c for c in CARDS if read_card(DEFAULT_ROOT / c).tabular])
def test_tabular_outputs_follow_the_card(model_id):
    m = Model.load(model_id)
    names = [i.name for i in m.sessions["generator"].get_inputs()]
    assert names == ["z", *([m.card.condition_type] if m.condition else [])]
    feed = {"z": m.noise(257, 0)}
    if m.classes:
        feed["label"] = m.one_hot(m.labels(257, 0))
    if m.confidence_conditioned:
        feed["confidence"] = m.typical_confidence(257, 0).astype(np.float32)[:, None]
    if m.instance_conditioned:
        feed["instance"] = m.instances(257, 0)
    numeric, categorical = m.sessions["generator"].run(None, feed)
    num_cols, cat_cols = m.card.numeric_columns, m.card.categorical_columns
    assert numeric.dtype == np.float32 and numeric.shape == (257, len(num_cols))
    assert categorical.dtype == np.int64 and categorical.shape == (257, len(cat_cols))
    for j, c in enumerate(num_cols):
        assert (numeric[:, j] >= c.min).all() and (numeric[:, j] <= c.max).all()
        if c.integer:
            assert (numeric[:, j] == np.round(numeric[:, j])).all()
    for j, c in enumerate(cat_cols):
        assert categorical[:, j].min() >= 0 and categorical[:, j].max() < len(c.categories)
    if m.classes:
        assert m.condition.name not in [c.name for c in m.card.columns]
    logit = m.discriminate(m.sample(64, seed=1))
    assert logit.shape == (64,) and np.isfinite(logit).all()


@pytest.mark.parametrize("bad, message", [
    ({"kind": "video"}, "card.kind must be one of"),
    ({"latent_dim": "16"}, "card.latent_dim must be a whole number"),
    ({"surprise": 1}, "unknown key 'surprise'"),
    ({"condition": {"type": "label", "name": "class"}}, "needs classes, train_share"),
    ({"files": {}}, "files must list the generator"),
    ({"condition": {"type": "label", "name": "class", "classes": ["good", "bad"], "train_share": {"good": 0.7, "bad": 0.3},
                    "candidates": 8}}, "candidates is a confidence condition's"),
])
def test_contract_refuses_a_broken_card_with_the_key_named(bad, message):
    raw = json.loads((DEFAULT_ROOT / "credit-g-cgan" / "card.json").read_text())
    with pytest.raises(CardError, match=message):
        Card.from_dict({**raw, **bad})
    for missing in ("id", "training", "columns"):
        with pytest.raises(CardError, match=repr(missing) if missing != "columns" else "columns"):
            Card.from_dict({k: v for k, v in raw.items() if k != missing})


@pytest.mark.parametrize("target, source", [("adult-cgan", "diabetes-gan"),  # other input names and widths
                                            ("credit-g-cgan", "diabetes-cgan-balanced")])  # same inputs, other widths
def test_a_generator_that_does_not_match_its_card_is_refused(tmp_path, target, source):
    folder = tmp_path / target
    shutil.copytree(DEFAULT_ROOT / target, folder)
    shutil.copy(DEFAULT_ROOT / source / "generator.onnx", folder / "generator.onnx")
    raw = json.loads((folder / "card.json").read_text())
    raw["files"]["generator"]["sha256"] = __import__("hashlib").sha256((folder / "generator.onnx").read_bytes()).hexdigest()
    (folder / "card.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="its card promises"):
        Model.from_folder(folder)


def test_loading_and_sampling_import_only_numpy_and_onnxruntime():
    code = ("import sys; from explorer.runtime.models import Model; "
            "[Model.load(m).sample_columns(50, 1) for m in ('adult-cgan', 'adult-icgan', 'credit-g-confgan')]; "
            "heavy = {'pandas', 'sklearn', 'scipy', 'streamlit', 'torch', 'altair', 'pyarrow'} & "
            "{name.split('.')[0] for name in sys.modules}; assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=DEFAULT_ROOT.parent)
