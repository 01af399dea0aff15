"""Post-training calibration (training/calibrate.py): exact per-class marginals, same in ONNX as in torch."""
import numpy as np
import pytest
from scipy.stats import ks_2samp

from training.configs import config_for
from training.gan import TabularGAN


@pytest.fixture(scope="module")
def calibrated(diabetes):
    config = config_for("diabetes", "cgan", epochs=6, eval_every=6, g_hidden=(64, 64), d_hidden=(64, 64),
                        calibrate=True, balanced=True)
    return TabularGAN(config).fit(diabetes, progress=False)


def _gaps(gan, table, n=40_000):
    """Worst numeric KS and worst category-share gap over the classes, for n rows per class."""
    ks, share = 0.0, 0.0
    for cls in gan.classes_:
        synth = gan.sample(n, seed=5, labels=[cls] * n)
        real = table.train[table.train[table.target] == cls]
        ks = max(ks, *(ks_2samp(synth[c], real[c]).statistic for c in table.numeric))
        for c in (c for c in table.categorical if c != table.target):
            diff = synth[c].value_counts(normalize=True).sub(real[c].value_counts(normalize=True), fill_value=0)
            share = max(share, diff.abs().max())
    return ks, share


def test_calibration_gives_each_class_its_real_marginals(calibrated, diabetes):
    ks, _ = _gaps(calibrated, diabetes)
    assert ks < 0.03
    saved, calibrated.calibration_ = calibrated.calibration_, None
    try:
        raw_ks, _ = _gaps(calibrated, diabetes)
    finally:
        calibrated.calibration_ = saved
    assert raw_ks > 2 * ks  # the short-trained generator alone is visibly off


def test_category_bias_matches_shares(adult):
    from training.calibrate import _category_bias
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50_000, 3)) + np.array([2.0, 0.0, -1.0])  # argmax shares far from the target
    target = np.array([0.2, 0.5, 0.3])
    bias = _category_bias(logits, target, [3], iterations=50)
    drawn = np.bincount(np.argmax(logits + bias, 1), minlength=3) / len(logits)
    assert np.abs(drawn - target).max() < 0.01


@pytest.mark.slow  # ONNX export
def test_exported_graph_decodes_like_torch(calibrated, diabetes, tmp_path):
    from explorer.runtime.models import Model
    from training.export import export
    folder = export(calibrated, diabetes, "diabetes-cgan-cal", tmp_path, "test", evaluate=False)
    model = Model.from_folder(folder)
    assert model.card.preprocessing.calibration
    labels = model.labels(3000, seed=2)
    onnx_rows = model.generate(model.noise(3000, seed=2), labels)
    torch_rows = calibrated.sample(3000, seed=2, labels=labels)[onnx_rows.columns]
    categorical = [c for c in onnx_rows.columns if c not in diabetes.numeric]
    assert (onnx_rows[categorical].to_numpy() == torch_rows[categorical].to_numpy()).mean() > 0.999
    # as the exporter's own check: within one rounding unit of the column (a value on a rounding boundary may
    # land on either side when onnxruntime and torch sum in another order, e.g. with another thread count)
    unit = np.array([10.0 ** -model.card.column(c).decimals for c in diabetes.numeric])
    diff = np.abs(onnx_rows[diabetes.numeric].to_numpy(float) - torch_rows[diabetes.numeric].to_numpy(float))
    assert (diff <= unit + 1e-6).mean() > 0.999, diff.max(axis=0)


@pytest.mark.slow  # ONNX export
def test_calibrate_model_rebuilds_and_calibrates_an_exported_generator(quick_models, diabetes, tmp_path):
    import shutil
    from explorer.runtime.models import Model
    from training.calibrate_model import main
    from training.twin import calibration_from_onnx
    shutil.copytree(quick_models / "diabetes-cgan", tmp_path / "diabetes-cgan")
    folder = main(["--model", "diabetes-cgan", "--out", str(tmp_path), "--no-eval"])
    model = Model.from_folder(folder)
    assert model.card.training.calibrated.source == "diabetes-cgan"
    assert calibration_from_onnx(folder / "generator.onnx").tables.shape[0] == 2  # one table per class
    rows = model.sample(20_000, seed=1, mix="tested_positive")
    real = diabetes.train[diabetes.train["class"] == "tested_positive"]
    assert max(ks_2samp(rows[c], real[c]).statistic for c in diabetes.numeric) < 0.03
    with pytest.raises(ValueError, match="already calibrated"):
        main(["--model", "diabetes-cgan-calibrated", "--out", str(tmp_path), "--no-eval"])


@pytest.mark.slow  # calibration and ONNX export
def test_int8_copy_of_a_calibrated_model_quantises_the_network_only(tmp_path):
    """The class bias is picked by index, not multiplied by the label: int8 would quantise that product
    (slower, and the bias no longer exact)."""
    import shutil
    import onnx
    from explorer.runtime.models import DEFAULT_ROOT
    from training.calibrate_model import main as calibrate
    from training.quantize import main as quantize
    if not (DEFAULT_ROOT / "credit-g-cgan" / "card.json").is_file():
        pytest.skip("the committed credit-g-cgan is missing from exported/")
    shutil.copytree(DEFAULT_ROOT / "credit-g-cgan", tmp_path / "credit-g-cgan")
    calibrate(["--model", "credit-g-cgan", "--out", str(tmp_path), "--no-eval"])
    folder = quantize(["--model", "credit-g-cgan-calibrated", "--out", str(tmp_path), "--no-eval"])
    graph = onnx.load(folder / "generator.onnx").graph
    quantised = [n.input[0] for n in graph.node if n.op_type == "MatMulInteger"]
    layers = [n for n in onnx.load(tmp_path / "credit-g-cgan" / "generator.onnx").graph.node if n.op_type == "Gemm"]
    assert len(quantised) == len(layers) and not [i for i in quantised if i.startswith("label")], quantised
