"""The GAN pieces tables and digits share: the three losses, the gradient penalty and the weight
average of the generator. The loops keep only what differs: training/gan.py (packing, R2's tricks,
validation, checkpoints) and training/digits.py (images and latents, FreezeD).

Each function does exactly the tensor operations both loops did before, in the same order, so
a model retrained with its card's command comes out bit for bit the same.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

LOSSES = ("wgan-gp", "bce", "hinge")


def d_loss(s_real: torch.Tensor, s_fake: torch.Tensor, loss: str, real_target: float = 1.0,
           fake_target: float = 0.0) -> torch.Tensor:
    """The critic's loss on real and fake scores; for ``wgan-gp`` the caller adds the penalty.
    ``bce`` targets other than 1/0 are label smoothing or flipping (R2)."""
    if loss == "wgan-gp":
        return s_fake.mean() - s_real.mean()
    if loss == "hinge":
        return torch.relu(1 - s_real).mean() + torch.relu(1 + s_fake).mean()
    return (F.binary_cross_entropy_with_logits(s_real, torch.full_like(s_real, real_target))
            + F.binary_cross_entropy_with_logits(s_fake, torch.full_like(s_fake, fake_target)))


def g_loss(s_fake: torch.Tensor, loss: str) -> torch.Tensor:
    """The generator's loss: non-saturating for ``bce``, the critic's mean score otherwise."""
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(s_fake, torch.ones_like(s_fake))
    return -s_fake.mean()


def gradient_penalty(score: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     alpha: torch.Tensor, group: int = 1) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): unit gradient norm of the critic on ``alpha``-mixes of real and
    fake. The norm is taken over ``group`` consecutive rows at once (PacGAN's packs)."""
    mix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(score(mix).sum(), mix, create_graph=True)
    return ((grad.reshape(len(real) // group, -1).norm(2, dim=1) - 1) ** 2).mean()


def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """Move the average's weights towards the model's; buffers (batch-norm statistics) are copied."""
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.lerp_(p, 1 - decay)
        for e, b in zip(ema.buffers(), model.buffers()):
            e.copy_(b)


def critic_accuracy(s_real: torch.Tensor, s_fake: torch.Tensor, threshold: float) -> torch.Tensor:
    """Share of real scores above and fake scores at or below ``threshold``, averaged."""
    return 0.5 * ((s_real > threshold).float().mean() + (s_fake <= threshold).float().mean())
