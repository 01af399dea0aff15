"""The digit prerequisites (judge, autoencoder) rebuilt from a committed model: the same function, and export
gives back the very weights, so a card's command re-exports the judge and autoencoder the committed models share."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from explorer.runtime.models import DEFAULT_ROOT
from training import run_digits
from training.digit_nets import Classifier, Judge
from training.restore import restored

SOURCE = DEFAULT_ROOT / "mnist-latent-cgan"
needs_source = pytest.mark.skipif(not (SOURCE / "card.json").is_file(), reason="mnist-latent-cgan not committed")
JUDGE_META = {"epochs": 6, "rows": 60000, "seed": 0}
AE_META = {"epochs": 12, "rows": 60000, "seed": 0, "latent_dim": 32, "decoder_width": 16}


def weights(path) -> dict:
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}


@pytest.fixture(scope="module")
def data():
    return run_digits.load()


@needs_source
def test_the_judge_and_autoencoder_come_back_from_the_committed_graphs_without_training(data, tmp_path):
    import onnxruntime as ort
    classifier, info = run_digits.judge(data, tmp_path, quick=False)
    encoder, decoder, ae = run_digits.autoencoder(data, tmp_path, quick=False, decoder_width=16, measure=False)
    assert info["restored_from"] == ae["restored_from"] == SOURCE.name
    assert {"test_accuracy", "fgsm", "seconds"} <= set(info) and ae["settings"] == AE_META
    images = data["xt"][:300]
    with torch.no_grad():
        probs = torch.softmax(classifier(images), 1).numpy()
        latents = encoder(images)
        decoded = decoder(latents).numpy()
    for graph, feed, got in (("classifier.onnx", {"image": images.numpy()}, probs),
                             ("encoder.onnx", {"image": images.numpy()}, latents.numpy()),
                             ("decoder.onnx", {"latent": latents.numpy()}, decoded)):
        session = ort.InferenceSession(str(SOURCE / graph), providers=["CPUExecutionProvider"])
        np.testing.assert_allclose(got, session.run(None, feed)[0], atol=2e-5, rtol=1e-4, err_msg=graph)
    assert {p.name for p in tmp_path.iterdir()} == {"mnist-classifier.pt", "mnist-autoencoder-decoder16.pt"}


@needs_source
def test_other_settings_are_not_restored():
    assert restored("judge", {**JUDGE_META, "epochs": 7}, {"weights": (Judge(Classifier()), "classifier.onnx", "")}) is None
    assert restored("judge", JUDGE_META, {"weights": (Judge(Classifier(width=16)), "classifier.onnx", "")}) is None


@pytest.mark.slow
@needs_source
def test_export_folds_the_restored_networks_back_to_the_committed_weights(data, tmp_path):
    classifier, _ = run_digits.judge(data, tmp_path, quick=False)
    encoder, decoder, _ = run_digits.autoencoder(data, tmp_path, quick=False, decoder_width=16, measure=False)
    for name, module, outputs in (("classifier", Judge(classifier), ["probs", "features"]),
                                  ("encoder", encoder, ["latent"]),
                                  ("decoder", run_digits.LatentToImage(decoder), ["image"])):
        args, names = run_digits._inputs(name, module, 32, False)
        run_digits._export_checked(module, args, names, outputs, tmp_path / f"{name}.onnx")
        committed, again = weights(SOURCE / f"{name}.onnx"), weights(tmp_path / f"{name}.onnx")
        assert committed.keys() == again.keys()
        for key in committed:
            np.testing.assert_array_equal(committed[key], again[key], err_msg=f"{name}: {key}")
