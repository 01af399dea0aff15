"""int8 copies of exported generators (training/quantize.py): the contract, the card, agreement with the source."""
from __future__ import annotations

import shutil

import numpy as np
import onnx
import pytest

from explorer.runtime.models import DEFAULT_ROOT, Model, ModelError


@pytest.fixture(scope="module")
def quantised(tmp_path_factory):
    """An int8 copy of the committed diabetes cGAN, made in a temporary folder."""
    from training.quantize import main
    out = tmp_path_factory.mktemp("quantised")
    shutil.copytree(DEFAULT_ROOT / "diabetes-cgan", out / "diabetes-cgan")
    main(["--model", "diabetes-cgan", "--out", str(out), "--no-eval"])
    return Model.load("diabetes-cgan", out), Model.load("diabetes-cgan-int8", out)


def test_int8_model_keeps_the_contract_and_records_its_source(quantised):
    source, int8 = quantised
    ops = {n.op_type for n in onnx.load(str(int8.folder / "generator.onnx")).graph.node}
    assert "MatMulInteger" in ops and "Gemm" not in ops
    assert [i.name for i in int8.sessions["generator"].get_inputs()] == ["z", "label"]
    assert [o.name for o in int8.sessions["generator"].get_outputs()] == ["numeric", "categorical"]
    q = int8.card.training.quantised
    assert q.source == "diabetes-cgan" and q.source_generator_sha256 == source.card.files["generator"].sha256
    assert q.command.startswith("python -m training.quantize")
    agreement = int8.card.metrics["agreement_with_source"]
    assert agreement["categorical_cells_equal"] is None  # diabetes: the class is an input, every output numeric
    assert agreement["numeric_median_abs_diff_of_range"] < 0.02
    assert "discriminator" in int8.sessions  # the source's, unchanged


def test_int8_rows_are_close_to_the_source_rows_and_seeded(quantised):
    source, int8 = quantised
    a, b = source.sample(2000, seed=4, mix="tested_positive"), int8.sample(2000, seed=4, mix="tested_positive")
    assert a.shape == b.shape and (a["class"] == b["class"]).all()
    assert int8.sample(50, seed=1).equals(int8.sample(50, seed=1))
    for col in [c.name for c in source.card.numeric_columns]:
        span = max(a[col].max() - a[col].min(), 1e-9)
        assert np.median(np.abs(a[col] - b[col])) / span < 0.02


def test_a_tampered_int8_generator_is_refused(quantised, tmp_path):
    _, int8 = quantised
    shutil.copytree(int8.folder, tmp_path / int8.id)
    path = tmp_path / int8.id / "generator.onnx"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        Model.load(int8.id, tmp_path)


COMMITTED = sorted(p.name for p in DEFAULT_ROOT.glob("*-int8") if (p / "card.json").is_file())


@pytest.mark.skipif(not COMMITTED, reason="no committed int8 model")
@pytest.mark.parametrize("model_id", COMMITTED)
def test_committed_int8_model_matches_its_source(model_id):
    int8 = Model.load(model_id)
    source = Model.load(int8.card.training.quantised.source)
    assert int8.card.training.quantised.source_generator_sha256 == source.card.files["generator"].sha256
    assert int8.card.metrics["agreement_with_source"]["categorical_cells_equal"] >= 0.95
    for key in ("detection_rf_auc", "efficacy_ratio", "mean_ks_tv_complement"):
        assert abs(int8.card.metrics[key] - source.card.metrics[key]) < 0.01
