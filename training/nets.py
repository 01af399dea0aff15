"""Generator and discriminator MLPs with R1/R2's options and the modern ones that win.

Generator width is the one knob that trades serving speed for quality: on Adult, 256-256
beat 128-128 and 128-64 on forest detection (0.75 vs 0.85 / 0.88 after 100 epochs), so the
defaults favour quality (see README, "Speed").
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import norm
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def _act(slope: float) -> nn.Module:
    return nn.LeakyReLU(slope) if slope > 0 else nn.ReLU()


class HardOneHot(nn.Module):
    """Exact one-hot forward (what serving's argmax gives), softmax gradient backward.

    Training sees the same discrete rows the exported graph emits, so the discriminator
    cannot spot soft one-hots and sampling needs no extra Gumbel noise input.
    """

    def __init__(self, n_numeric: int, cat_sizes: list[int]):
        super().__init__()
        self.n_numeric, self.cat_sizes = n_numeric, cat_sizes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts, start = [x[:, : self.n_numeric]], self.n_numeric
        for size in self.cat_sizes:
            soft = torch.softmax(x[:, start:start + size], 1)
            hard = nn.functional.one_hot(soft.argmax(1), size).to(soft.dtype)
            parts.append(hard + soft - soft.detach())
            start += size
        return torch.cat(parts, 1)


class Generator(nn.Module):
    """z (+ condition) → raw row in the transformer's space (numeric logits, category logits)."""

    def __init__(self, latent_dim: int, cond_dim: int, out_dim: int, hidden=(128, 128),
                 batchnorm: bool = True, slope: float = 0.0):
        super().__init__()
        layers, width = [], latent_dim + cond_dim
        for h in hidden:
            layers += [nn.Linear(width, h)] + ([nn.BatchNorm1d(h)] if batchnorm else []) + [_act(slope)]
            width = h
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z if cond is None else torch.cat([z, cond], 1))


class Mixture(nn.Module):
    """An equal mixture of generators: the noise's last coordinate picks each row's member (its standard-normal
    thirds, for three), the rest is that member's noise. Each row goes through one member only, so a mixture
    samples as fast as one generator; a row depends on its own noise alone, whatever the batch."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)
        cuts = norm.ppf(np.arange(1, len(members)) / len(members))
        self.register_buffer("cuts", torch.tensor(cuts, dtype=torch.float32))

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        member = (z[:, -1:] > self.cuts).sum(1)
        z = z[:, :-1]
        parts = []
        for k, generator in enumerate(self.members):
            idx = torch.nonzero(member == k).squeeze(1)
            if torch.compiler.is_exporting():  # the graph's sizes are then symbolic; onnxruntime runs 0 rows fine
                torch._check(idx.shape[0] > 0)
            parts.append(generator(z[idx], None if cond is None else cond[idx]))
        # each row's place among the members' rows (member by member, in row order), by counting: a sort
        # would not be stable in the graph, and an index_put would fix the exported batch size
        seen = torch.cumsum((member.unsqueeze(1) == torch.arange(len(self.members))).long(), 0)
        start = torch.cumsum(seen[-1], 0) - seen[-1]
        place = (start + seen - 1).gather(1, member.unsqueeze(1)).squeeze(1)
        return torch.cat(parts)[place]


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016 (R2 used B=5, C=3): lets D see how alike the rows of a batch are."""

    def __init__(self, in_dim: int, kernels: int = 5, kernel_dim: int = 3):
        super().__init__()
        self.T = nn.Parameter(torch.randn(in_dim, kernels * kernel_dim) * 0.1)
        self.kernels, self.kernel_dim = kernels, kernel_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = (x @ self.T).view(-1, self.kernels, self.kernel_dim)
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(3)
        return torch.cat([x, torch.exp(-l1).sum(0) - 1], 1)


class BinnedNumerics(nn.Module):
    """Adds a piecewise-linear encoding of each numeric input's CDF level (Gorishniy et al. 2022):
    ``bins`` ramps per column, so the critic sees threshold features like a tree's splits."""

    def __init__(self, n_numeric: int, bins: int):
        super().__init__()
        self.n_numeric, self.bins = n_numeric, bins
        self.register_buffer("steps", torch.arange(bins, dtype=torch.float32))

    @property
    def extra(self) -> int:
        return self.n_numeric * self.bins

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        level = torch.sigmoid(x[:, : self.n_numeric])  # numeric inputs are logits of the CDF level
        ramps = (level[:, :, None] * self.bins - self.steps).clamp(0, 1)
        return torch.cat([x, ramps.flatten(1)], 1)


class Discriminator(nn.Module):
    """Row (+ condition) → one logit/critic score; ``pac`` rows are judged together (PacGAN)."""

    def __init__(self, in_dim: int, cond_dim: int, hidden=(256, 256), dropout: float = 0.5,
                 slope: float = 0.2, spectral: bool = False, minibatch: bool = False, pac: int = 1,
                 n_numeric: int = 0, bins: int = 0):
        super().__init__()
        self.pac = pac
        self.binned = BinnedNumerics(n_numeric, bins) if bins and n_numeric else None
        wrap = spectral_norm if spectral else (lambda m: m)
        layers, width = [], (in_dim + cond_dim + (self.binned.extra if self.binned else 0)) * pac
        if minibatch:
            layers.append(MinibatchDiscrimination(width))
            width += 5
        for h in hidden:
            layers += [wrap(nn.Linear(width, h)), _act(slope)] + ([nn.Dropout(dropout)] if dropout else [])
            width = h
        layers.append(wrap(nn.Linear(width, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.binned is not None:
            x = self.binned(x)
        if cond is not None:
            x = torch.cat([x, cond], 1)
        return self.net(x.reshape(-1, x.shape[1] * self.pac))


def xavier_init(module: nn.Module) -> None:
    """R1's Xavier-normal initialisation for every linear layer."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)
