"""The unconditional latent MNIST GAN: its PacGAN critic, the code drawn from its own noise (InfoGAN), their
settings and checkpoints, the attempts' harness, and the committed model against its bar."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from explorer.metrics import digits as dm
from explorer.runtime.images import generate_images
from explorer.runtime.models import DEFAULT_ROOT, Model
from training import digit_nets as nets
from training import run_digits
from training.configs import Settings
from training.digits import DigitGAN

MODEL = "mnist-latent-gan"
needs_model = pytest.mark.skipif(not (DEFAULT_ROOT / MODEL / "card.json").is_file(), reason=f"{MODEL} not committed")
SHARES, FRECHET_BAR = (0.07, 0.13), 5.0


def test_a_pac_critic_scores_packs_and_the_exported_scorer_each_image():
    torch.manual_seed(0)
    D = nets.LatentDiscriminator(6, pac=4, hidden=(16, 16)).eval()
    x = torch.randn(8, 6)
    with torch.no_grad():
        assert D(x).shape == (2, 1)
        torch.testing.assert_close(D(x)[1], D.net(x[4:].reshape(1, 24))[0])
        judge = run_digits.LatentJudge(nets.Encoder(6), D, torch.zeros(6), torch.ones(6)).eval()
        images = torch.rand(3, 28, 28)
        scores = judge(images)
        codes = judge.encoder(images)
    assert scores.shape == (3, 1)  # one score per image: a pack of that image's own copies
    torch.testing.assert_close(scores[2], D.net(codes[2].repeat(4)[None])[0])


def test_the_noise_code_is_uniform_one_hot_and_steers_the_generator():
    z = torch.from_numpy(np.random.default_rng(0).standard_normal((100_000, 32), dtype=np.float32))
    code = nets.noise_code(z, 10)
    assert torch.equal(code.sum(1), torch.ones(len(z))) and set(code.unique().tolist()) == {0.0, 1.0}
    shares = code.mean(0).numpy()
    assert np.all(np.abs(shares - 0.1) < 0.005), shares  # argmax of iid normals: every value equally likely
    torch.manual_seed(0)
    G = nets.CodedGenerator(nets.LatentGenerator(32, 8, 10, hidden=(16, 16)), 10).eval()
    one, other = z[:1].clone(), z[:1].clone()
    other[0, (int(code[0].argmax()) + 1) % 10] = 10.0  # the same noise but another code value
    with torch.no_grad():
        assert not torch.allclose(G(one), G(other))
        torch.testing.assert_close(G(one), G.net(one, code[:1]))


def test_the_latent_gan_settings_from_the_command_line():
    got = run_digits.parse_settings(["latent-gan"], ["pac=4", "categories=10", "d_hidden=512,512", "batchnorm=false",
                                                     "loss=wgan-gp", "gp_weight=5", "info_weight=0.5"])
    assert got == {"pac": 4, "categories": 10, "d_hidden": (512, 512), "batchnorm": False, "loss": "wgan-gp",
                   "gp_weight": 5.0, "info_weight": 0.5}
    with pytest.raises(ValueError, match="not a setting of latent-cgan"):
        run_digits.parse_settings(["latent-gan", "latent-cgan"], ["pac=4"])
    with pytest.raises(ValueError, match="--set expects key=value with key one of"):
        run_digits.parse_settings(["latent-cgan"], ["categories=10"])
    with pytest.raises(ValueError, match="pac must be 1 or more"):
        run_digits.parse_settings(["latent-gan"], ["pac=0"])
    line = run_digits.architecture("latent-gan", {"pac": 4, "categories": 10, "loss": "hinge"})
    assert "per pack of 4 (PacGAN)" in line and "10-valued code from the noise" in line and "hinge" in line


def tiny_gan(epochs: int, batch: int = 32, pac: int = 2, k: int = 4) -> DigitGAN:
    settings = Settings(latent_dim=8, epochs=epochs, batch_size=batch, loss="bce", ema=0.9, seed=5)
    torch.manual_seed(5)
    G = nets.CodedGenerator(nets.LatentGenerator(8, 6, k, hidden=(16, 16)), k)
    return DigitGAN(settings, G, nets.LatentDiscriminator(6, pac=pac, hidden=(16, 16)), nets.CodeRecogniser(6, k, 16))


def test_a_coded_packed_gan_resumes_to_the_uninterrupted_weights_and_refuses_a_ragged_batch(tmp_path):
    data = torch.randn(128, 6, generator=torch.Generator().manual_seed(0))
    straight = tiny_gan(3).fit(data, progress=False)
    ckpt = tmp_path / "latent.pt"
    tiny_gan(2).fit(data, checkpoint=ckpt, progress=False)
    resumed = tiny_gan(3).fit(data, checkpoint=ckpt, resume=True, progress=False)
    for part in ("G", "G_ema", "D", "Q"):  # Q (the code's recogniser) is part of the checkpoint too
        for (name, a), b in zip(getattr(straight, part).state_dict().items(),
                                getattr(resumed, part).state_dict().values()):
            assert torch.equal(a, b), f"{part}.{name}"
    with pytest.raises(ValueError, match=r"batch \(30\) must be a multiple of pac \(4\)"):
        tiny_gan(1, batch=30, pac=4).fit(data, progress=False)


def test_a_code_needs_as_much_noise(tmp_path):
    data = {"x": torch.rand(64, 28, 28), "y": torch.arange(64) % 10}
    ae = (nets.Encoder(32), nets.ImageDecoder(32, width=4), {})
    settings = run_digits.digit_config("latent-gan", latent_dim=8, categories=10, epochs=1)
    with pytest.raises(ValueError, match=r"categories \(10\) cannot exceed noise_dim \(8\)"):
        run_digits.build_and_train("latent-gan", data, settings, ae, quick=True)


@pytest.mark.slow
def test_the_attempts_harness_writes_a_row_with_its_command(tmp_path):
    from experiments.latent_gan import main
    row = main(["--quick", "--set", "pac=2", "--set", "categories=10", "--seed", "1", "--checkpoints",
                str(tmp_path / "ck"), "--csv", str(tmp_path / "attempts.csv")])
    assert row["command"].startswith("python -m experiments.latent_gan --quick --set pac=2")
    assert row["attempt"] == "pac=2 categories=10 seed=1"
    assert abs(sum(row[f"share_{d}"] for d in range(10)) - 1) < 1e-9 and row["frechet"] > 0
    assert (tmp_path / "attempts.csv").read_text().count("\n") == 2  # header and the row
# ------------------------------------------------------------------ the committed model against its bar
def committed_card() -> dict:
    return json.loads((DEFAULT_ROOT / MODEL / "card.json").read_text())


@needs_model
def test_the_committed_latent_gan_card_meets_the_bar_without_labels():
    card = committed_card()
    m = card["metrics"]
    assert card["condition"] is None and m["samples"] == 10_000
    assert m["frechet_vs_reference"] <= FRECHET_BAR, m["frechet_vs_reference"]
    shares = m["digit_distribution"]
    assert set(shares) == {str(d) for d in range(10)} and abs(sum(shares.values()) - 1) < 1e-9
    assert SHARES[0] <= min(shares.values()) and max(shares.values()) <= SHARES[1], shares
    assert m["frechet_vs_reference"] == pytest.approx(m["frechet"] / m["reference_real_train_vs_test"]["frechet"])


@pytest.mark.slow
@needs_model
def test_the_committed_latent_gan_measured_again_meets_the_bar(tmp_path):
    """10,000 samples judged afresh, the card's way (about 6 s): the card's figures, and the bar."""
    from explorer.data.tables import load_mnist
    model, raw = Model.load(MODEL), load_mnist()
    session = model.sessions["classifier"]
    _, f_test = dm.judge(session, raw["x_test"].astype(np.float32) / 255)
    pick = np.random.default_rng(0).choice(60_000, 10_000, replace=False)
    _, f_train = dm.judge(session, raw["x_train"][pick].astype(np.float32) / 255)
    probs, f_fake = dm.judge(session, generate_images(model, model.noise(10_000, 0)))
    ratio = dm.frechet(f_test, f_fake) / dm.frechet(f_test, f_train)
    shares = dm.digit_distribution(probs)
    card = committed_card()["metrics"]
    assert ratio == pytest.approx(card["frechet_vs_reference"], rel=1e-3)
    assert shares == pytest.approx(card["digit_distribution"], abs=1e-3)
    assert ratio <= FRECHET_BAR and SHARES[0] <= min(shares.values()) and max(shares.values()) <= SHARES[1]


@needs_model
def test_the_committed_latent_gan_shares_the_latent_cgans_judge_and_autoencoder():
    import onnx
    from onnx import numpy_helper

    other = DEFAULT_ROOT / "mnist-latent-cgan"
    if not (other / "card.json").is_file():
        pytest.skip("mnist-latent-cgan not committed")
    for graph in ("classifier.onnx", "encoder.onnx", "decoder.onnx"):
        a, b = ({i.name: numpy_helper.to_array(i) for i in onnx.load(str(folder / graph)).graph.initializer}
                for folder in (DEFAULT_ROOT / MODEL, other))
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), graph
