"""The training core: one settings type for tables and digits, and one loop whose checkpoints resume a
digit GAN to the very weights of an uninterrupted run (the tables' resume: tests/test_training.py)."""
from __future__ import annotations

import json

import pytest
import torch

from explorer.data.tables import load_mnist
from explorer.runtime.models import DEFAULT_ROOT
from training import digit_nets as nets
from training.configs import DIGITS, TABLES, Settings, config_for, digit_config, digit_record
from training.core import CheckpointError
from training.digits import DigitGAN, as_images


def committed_config(model_id: str) -> dict:
    card = DEFAULT_ROOT / model_id / "card.json"
    if not card.is_file():
        pytest.skip(f"{model_id} is not committed in exported/")
    return json.loads(card.read_text())["training"]["config"]


@pytest.mark.parametrize("arch", ["latent-gan", "latent-cgan", "pixel-cgan", "mlp-gan"])
def test_a_digit_card_records_the_settings_under_the_digits_names(arch):
    """The committed cards' own config comes back from the one settings type, key for key and value for value."""
    committed = committed_config(f"mnist-{arch}")
    overrides = {k: v for k, v in committed.items() if k in ("width", "decoder_width", "epochs")}
    assert json.loads(json.dumps(digit_record(digit_config(arch, **overrides), arch))) == committed


def test_a_table_card_records_every_tables_setting_and_no_digit_one():
    committed = committed_config("adult-cgan-balanced")
    recorded = config_for("adult", "cgan", balanced=True, epochs=300).record(TABLES)
    assert set(committed) <= set(recorded) and not {"betas", "frozen", "width", "decoder_width"} & set(recorded)
    assert {k: v for k, v in json.loads(json.dumps(recorded)).items() if k in committed} == committed
    assert "noise_dim" in Settings().record(DIGITS) and "latent_dim" not in Settings().record(DIGITS)


@pytest.mark.parametrize("bad, named", [(dict(lr_g=-1.0), "lr_g"), (dict(epochs=0), "epochs"),
                                        (dict(ema=1.0), "ema"), (dict(g_hidden=(64, 0)), "g_hidden"),
                                        (dict(betas=(0.5, float("nan"))), "betas"), (dict(loss="wgan"), "loss"),
                                        (dict(optimizer="sgd"), "optimizer"), (dict(lr_final=1.5), "lr_final"),
                                        (dict(d_bins=-2), "d_bins"), (dict(runs=0), "runs must be 1 or more"),
                                        (dict(snapshots=0), "snapshots must be 1 or more")])
def test_settings_refuse_a_bad_value_on_construction(bad, named):
    with pytest.raises(ValueError, match=named):
        Settings(**bad)


def test_the_learning_rates_decay_linearly_to_lr_final_at_the_last_epoch(diabetes):
    from training.gan import TabularGAN
    gan = TabularGAN(config_for("diabetes", "gan", epochs=5, eval_every=5, g_hidden=(16,), d_hidden=(16,),
                                lr_g=4e-4, lr_d=2e-4, lr_final=0.25))
    seen = []
    step = gan._step
    gan._step = lambda batch, i: (seen.append((gan.opt_g.param_groups[0]["lr"], gan.opt_d.param_groups[0]["lr"])),
                                  step(batch, i))[1]
    gan.fit(diabetes, progress=False)
    rates = sorted(set(seen), reverse=True)
    assert len(rates) == 5 and rates[0] == pytest.approx((4e-4, 2e-4)) and rates[-1] == pytest.approx((1e-4, 5e-5))
    constant = TabularGAN(config_for("diabetes", "gan", epochs=2, eval_every=2, g_hidden=(16,), d_hidden=(16,)))
    constant.fit(diabetes, progress=False)
    assert constant.opt_g.param_groups[0]["lr"] == constant.config.lr_g


@pytest.fixture(scope="module")
def digits():
    raw = load_mnist()
    return as_images(raw["x_train"][:256]), torch.eye(10)[torch.from_numpy(raw["y_train"][:256].astype("int64"))]


def digit_gan(epochs: int, loss: str = "wgan-gp") -> DigitGAN:
    """A small conditional latent-space pair on flattened images: a few milliseconds a step."""
    settings = Settings(latent_dim=8, epochs=epochs, batch_size=64, loss=loss, ema=0.9, seed=3)
    torch.manual_seed(3)
    return DigitGAN(settings, nets.LatentGenerator(8, 784, 10, hidden=(32, 32)), nets.LatentDiscriminator(784, 10, hidden=(32, 32)))


@pytest.mark.parametrize("loss", ["wgan-gp", "hinge"])
def test_a_digit_gan_resumed_from_its_checkpoint_ends_with_the_uninterrupted_weights(digits, tmp_path, loss):
    x, y = digits[0].reshape(-1, 784), digits[1]
    straight = digit_gan(3, loss).fit(x, y, progress=False)
    ckpt = tmp_path / "digits.pt"
    digit_gan(2, loss).fit(x, y, checkpoint=ckpt, progress=False)
    resumed = digit_gan(3, loss).fit(x, y, checkpoint=ckpt, resume=True, progress=False)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3] and resumed.epoch == 3
    for part in ("G", "G_ema", "D"):
        for (name, a), b in zip(getattr(straight, part).state_dict().items(),
                                getattr(resumed, part).state_dict().values()):
            assert torch.equal(a, b), f"{part}.{name}"
    assert torch.equal(straight.sample(5, seed=1, labels=y[:5]), resumed.sample(5, seed=1, labels=y[:5]))


def test_a_digit_checkpoint_from_other_settings_is_refused(digits, tmp_path):
    x, y = digits[0].reshape(-1, 784), digits[1]
    ckpt = tmp_path / "digits.pt"
    digit_gan(1).fit(x, y, checkpoint=ckpt, progress=False)
    with pytest.raises(CheckpointError, match="loss"):
        digit_gan(2, "hinge").fit(x, y, checkpoint=ckpt, resume=True, progress=False)


def test_the_binned_critic_sees_each_numeric_level_as_ramps():
    from training.nets import BinnedNumerics, Discriminator
    x = torch.tensor([[torch.logit(torch.tensor(0.3)).item(), 5.0]])  # a numeric at level 0.3, then a category
    ramps = BinnedNumerics(1, 4)(x)
    assert torch.allclose(ramps, torch.tensor([[x[0, 0].item(), 5.0, 1.0, 0.2, 0.0, 0.0]]), atol=1e-5)
    critic = Discriminator(2, 0, (8,), dropout=0.0, n_numeric=1, bins=4)
    assert critic.net[0].in_features == 6
    x.requires_grad_(True)
    critic(x).sum().backward()
    assert x.grad[0, 0] != 0  # the generator still gets a gradient through the ramps
