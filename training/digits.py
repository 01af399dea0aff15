"""Training loops for the digit models: judge classifier, autoencoder and GANs (plain, as in pytorch/examples).

One GAN loop serves every digit GAN (latent or pixel space, conditional or not, R5's MLP baseline,
FreezeD fine-tuning): the networks differ, the loop does not. The generator kept for export is an
exponential moving average of the trained one, which for small GANs is both steadier and sharper.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from training import core
from training.digit_nets import Classifier, Encoder, ImageDecoder


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


@dataclass
class GANSettings:
    noise_dim: int
    epochs: int
    seed: int = 0
    batch: int = 64
    loss: str = "bce"            # "bce" (non-saturating, R5), "hinge" or "wgan-gp"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)
    ema: float = 0.999           # 0 disables the moving average
    frozen: list = field(default_factory=list)  # names of D submodules kept fixed (FreezeD)


def train_gan(G: nn.Module, D: nn.Module, data: torch.Tensor, labels: torch.Tensor | None,
              s: GANSettings) -> tuple[nn.Module, list[dict], float]:
    """Fit G against D on ``data`` (images or latents; one-hot ``labels`` for a conditional pair).

    Returns the generator to export (the EMA copy unless disabled), the per-epoch history
    (losses and discriminator accuracy, for the app's Training page) and the seconds spent.
    """
    torch.manual_seed(s.seed)
    gen = torch.Generator().manual_seed(s.seed)
    for name in s.frozen:
        getattr(D, name).requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=s.lr_g, betas=s.betas)
    opt_d = torch.optim.Adam([p for p in D.parameters() if p.requires_grad], lr=s.lr_d, betas=s.betas)
    ema = copy.deepcopy(G).eval() if s.ema else None
    history, start = [], time.perf_counter()
    for epoch in range(1, s.epochs + 1):
        G.train(), D.train()
        for name in s.frozen:  # frozen layers keep their statistics too
            getattr(D, name).eval()
        totals = np.zeros(3)
        steps = 0
        bar = tqdm(_batches(len(data), s.batch, gen), total=len(data) // s.batch, leave=False,
                   desc=f"GAN {epoch}/{s.epochs}")
        for idx in bar:
            real = data[idx]
            label = labels[idx] if labels is not None else None
            z = torch.randn(len(idx), s.noise_dim, generator=gen)
            fake = G(z, label) if label is not None else G(z)
            cond = (label,) if label is not None else ()
            real_logit, fake_logit = D(real, *cond), D(fake.detach(), *cond)
            loss_d = core.d_loss(real_logit, fake_logit, s.loss)
            if s.loss == "wgan-gp":
                alpha = torch.rand(len(real), *[1] * (real.dim() - 1), generator=gen)
                loss_d = loss_d + 10 * core.gradient_penalty(lambda mix: D(mix, *cond), real, fake.detach(), alpha)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = core.g_loss(D(fake, *cond), s.loss)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            if ema is not None:
                core.update_ema(ema, G, s.ema)
            threshold = 0.0 if s.loss != "wgan-gp" else 0.5 * (real_logit.mean() + fake_logit.mean()).item()
            acc = core.critic_accuracy(real_logit, fake_logit, threshold)
            totals += [loss_d.item(), loss_g.item(), acc.item()]
            steps += 1
            bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}")
        history.append({"epoch": epoch, "loss_d": totals[0] / steps, "loss_g": totals[1] / steps,
                        "d_accuracy": totals[2] / steps, "seconds": time.perf_counter() - start})
        tqdm.write(f"epoch {epoch}/{s.epochs}: D {totals[0] / steps:.3f}  G {totals[1] / steps:.3f}  "
                   f"D accuracy {totals[2] / steps:.3f}")
    return (ema if ema is not None else G).eval(), history, time.perf_counter() - start
