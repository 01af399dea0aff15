"""Training for the digit models: judge classifier, autoencoder (plain loops, as in pytorch/examples) and GANs.

One estimator serves every digit GAN (latent or pixel space, conditional or not, R5's MLP baseline,
FreezeD fine-tuning) on the training core's loop: the networks differ, the step does not. The
generator kept for export is an exponential moving average of the trained one, which for small GANs
is both steadier and sharper.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from training import core
from training.configs import Settings
from training.digit_nets import Classifier, Encoder, ImageDecoder, noise_code


def as_images(x: np.ndarray) -> torch.Tensor:
    """uint8 [n, 28, 28] → float32 in [0, 1]."""
    return torch.from_numpy(np.asarray(x, dtype=np.float32) / 255.0)


def _batches(n: int, batch: int, generator: torch.Generator):
    order = torch.randperm(n, generator=generator)
    for start in range(0, n - batch + 1, batch):  # full batches only: BatchNorm dislikes a lone row
        yield order[start:start + batch]


def _shift(x: torch.Tensor, generator: torch.Generator, pixels: int = 2) -> torch.Tensor:
    """Random translation by up to ``pixels`` (zero padded): cheap augmentation for the judge."""
    pad = F.pad(x, (pixels,) * 4)
    dx, dy = (int(v) for v in torch.randint(0, 2 * pixels + 1, (2,), generator=generator))
    return pad[:, dy:dy + 28, dx:dx + 28]


def train_classifier(x: torch.Tensor, y: torch.Tensor, epochs: int = 6, seed: int = 0,
                     batch: int = 128) -> Classifier:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = Classifier()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    steps = epochs * (len(x) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    net.train()
    for epoch in range(1, epochs + 1):
        bar = tqdm(_batches(len(x), batch, gen), total=len(x) // batch, desc=f"classifier {epoch}/{epochs}",
                   leave=False)
        for idx in bar:
            loss = F.cross_entropy(net(_shift(x[idx], gen)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    return net.eval()


def accuracy(net: Classifier, x: torch.Tensor, y: torch.Tensor, batch: int = 2000) -> float:
    with torch.no_grad():
        pred = torch.cat([net(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
    return float((pred == y).float().mean())


def fgsm(net: Classifier, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """R3's fast gradient sign attack: x' = clip(x + ε·sign(∇ₓ loss), 0, 1)."""
    x = x.clone().requires_grad_(True)
    F.cross_entropy(net(x), y).backward()
    return (x + eps * x.grad.sign()).clamp(0, 1).detach()


def fgsm_table(net: Classifier, x: torch.Tensor, y: torch.Tensor, epsilons=(0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
               batch: int = 1000) -> list[dict]:
    net.eval()
    rows = []
    for eps in epsilons:
        adv = torch.cat([fgsm(net, x[i:i + batch], y[i:i + batch], eps) for i in range(0, len(x), batch)])
        rows.append({"epsilon": eps, "accuracy": accuracy(net, adv, y)})
    return rows


def train_autoencoder(x: torch.Tensor, latent_dim: int = 32, epochs: int = 10, seed: int = 0,
                      batch: int = 128, decoder_width: int = 32) -> tuple[Encoder, ImageDecoder]:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    enc, dec = Encoder(latent_dim), ImageDecoder(latent_dim, width=decoder_width)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=2e-3)
    steps = epochs * (len(x) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    enc.train(), dec.train()
    for epoch in range(1, epochs + 1):
        bar = tqdm(_batches(len(x), batch, gen), total=len(x) // batch, desc=f"autoencoder {epoch}/{epochs}",
                   leave=False)
        for idx in bar:
            loss = F.binary_cross_entropy(dec(enc(x[idx])), x[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.set_postfix(bce=f"{loss.item():.4f}")
    return enc.eval(), dec.eval()


def encode(enc: Encoder, x: torch.Tensor, batch: int = 2000) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([enc(x[i:i + batch]) for i in range(0, len(x), batch)])


class DigitGAN(core.GAN):
    """A digit GAN on the training core's loop: ``DigitGAN(settings, G, D).fit(data, labels)``.

    ``data`` are images or latents, ``labels`` one-hot digits for a conditional pair. Each step
    draws the noise, trains D on real and fake, then G against the updated D on the same fake.
    The generator kept for export is the weight average (``ema``) unless it is 0.
    """

    def __init__(self, config: Settings, G: nn.Module, D: nn.Module, Q: nn.Module | None = None):
        super().__init__(config)
        self.G, self.D, self.Q = G, D, Q  # Q: InfoGAN's recogniser of a CodedGenerator's code

    def fit(self, data: torch.Tensor, labels: torch.Tensor | None = None, checkpoint=None, resume: bool = False,
            progress: bool = True) -> "DigitGAN":
        self.labels_ = labels
        return super().fit(data, checkpoint=checkpoint, resume=resume, progress=progress)

    def _setup(self, data: torch.Tensor) -> None:
        s = self.config
        torch.manual_seed(s.seed)
        self.data_rng = torch.Generator().manual_seed(s.seed)
        pac = getattr(self.D, "pac", 1)
        if s.batch_size % pac:
            raise ValueError(f"batch ({s.batch_size}) must be a multiple of pac ({pac}): the critic judges packs of {pac}")
        for name in s.frozen:
            getattr(self.D, name).requires_grad_(False)
        g_params = [*self.G.parameters(), *(self.Q.parameters() if self.Q is not None else [])]
        self.opt_g = torch.optim.Adam(g_params, lr=s.lr_g, betas=s.betas)
        self.opt_d = torch.optim.Adam([p for p in self.D.parameters() if p.requires_grad], lr=s.lr_d, betas=s.betas)

    def _prepare(self, data: torch.Tensor) -> int:
        self.data_ = data
        return len(data) // self.config.batch_size * self.config.batch_size

    def _train_mode(self) -> None:
        super()._train_mode()
        for name in self.config.frozen:  # frozen layers keep their statistics too
            getattr(self.D, name).eval()

    def _batches(self, epoch: int):
        return _batches(len(self.data_), self.config.batch_size, self.data_rng)

    def _step(self, idx: torch.Tensor, step: int):
        s, G, D = self.config, self.G, self.D
        real = self.data_[idx]
        label = self.labels_[idx] if self.labels_ is not None else None
        z = torch.randn(len(idx), s.latent_dim, generator=self.data_rng)
        fake = G(z, label) if label is not None else G(z)
        cond = (label,) if label is not None else ()
        real_logit, fake_logit = D(real, *cond), D(fake.detach(), *cond)
        loss_d = core.d_loss(real_logit, fake_logit, s.loss)
        if s.loss == "wgan-gp":
            pac = getattr(D, "pac", 1)  # a PacGAN critic: one mixing weight and one gradient norm per pack
            alpha = torch.rand(len(real) // pac, *[1] * (real.dim() - 1), generator=self.data_rng)
            alpha = alpha if pac == 1 else alpha.repeat_interleave(pac, 0)
            loss_d = loss_d + s.gp_weight * core.gradient_penalty(lambda mix: D(mix, *cond), real, fake.detach(), alpha,
                                                                  group=pac)
        self._update_d(loss_d)
        loss_g = core.g_loss(D(fake, *cond), s.loss)
        if self.Q is not None:  # mutual information between the noise's code and what it draws (InfoGAN)
            code = noise_code(z, self.G.k).argmax(1)
            loss_g = loss_g + s.info_weight * F.cross_entropy(self.Q(fake), code)
        self._update_g(loss_g)
        threshold = 0.0 if s.loss != "wgan-gp" else 0.5 * (real_logit.mean() + fake_logit.mean()).item()
        return loss_d.item(), loss_g.item(), core.critic_accuracy(real_logit, fake_logit, threshold).item()

    def _end_epoch(self, data) -> dict:
        return {"seconds": self.seconds}

    def _state(self) -> dict:
        return {"Q": self.Q.state_dict()} if self.Q is not None else {}

    def _restore(self, state: dict) -> None:
        if self.Q is not None:
            self.Q.load_state_dict(state["Q"])

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, labels: torch.Tensor | None = None) -> torch.Tensor:
        """n outputs of the exported generator (images or latents) from numpy noise, as the app draws it."""
        z = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, self.config.latent_dim), dtype=np.float32))
        G = self.generator.eval()
        return G(z) if labels is None else G(z, labels)
