"""The GAN training core tables and digits share: one estimator (``GAN``: the epoch loop, progress,
history, checkpoints and resume), the three losses, the gradient penalty and the weight average of the
generator. The families supply only what differs: their networks, batches and step (training/gan.py
for tables: packing, R2's tricks, validation; training/digits.py for images and latents, FreezeD).

Every step does exactly the tensor operations and random draws the earlier separate loops did, in the
same order, so a model retrained with its card's command comes out bit for bit the same.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from training.configs import LOSSES, Settings  # noqa: F401  (LOSSES: the losses d_loss and g_loss know)

AFTER_TRAINING = ("epochs", "calibrate", "calibrate_parent")  # settings a resumed run may change: they act once training is over


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be used (corrupt, or made by other settings)."""


class GAN:
    """A GAN estimator in scikit-learn's manner: ``GAN(settings).fit(data)``, then ``sample``.

    ``fit`` is the one training loop (pytorch/examples' plain form): every epoch runs the family's
    steps over its batches, records the mean losses and the critic's accuracy, reports progress in
    rows, and checkpoints atomically, so a killed run resumes (``resume=True``) losing at most one
    epoch and ends with the same weights as an uninterrupted one. A family implements ``_setup``
    (networks, optimizers, ``data_rng``), ``_prepare`` (tensors; returns the rows per epoch),
    ``_batches`` and ``_step``, and may add to ``_end_epoch``, ``_stop``, ``_finish`` and the
    checkpoint (``_state``/``_restore``).
    """

    def __init__(self, config: Settings):
        self.config = config

    def fit(self, data, checkpoint: str | Path | None = None, resume: bool = False, progress: bool = True):
        c = self.config
        self._setup(data)
        self.G_ema = copy.deepcopy(self.G) if c.ema else self.G
        self.history, self.epoch, self.seconds = [], 0, 0.0
        if resume and checkpoint and Path(checkpoint).exists():
            self._load_checkpoint(Path(checkpoint))
        rows = self._prepare(data)
        # counted in rows, so the bar shows rows/s and an ETA even when one epoch is a million rows
        bar = tqdm(total=c.epochs * rows, initial=self.epoch * rows, disable=not progress, desc=self._describe(data),
                   unit="row", unit_scale=True, mininterval=1.0)
        for epoch in range(self.epoch, c.epochs):
            start = time.perf_counter()
            self._set_learning_rates(epoch)
            self._train_mode()
            sums, steps = np.zeros(3), 0
            for batch in self._batches(epoch):
                d_loss, g_loss, d_acc = self._step(batch, steps)
                sums += (d_loss, np.nan_to_num(g_loss), d_acc)  # g_loss is NaN on steps that train only D
                steps += 1
                bar.update(c.batch_size)
            self.epoch = epoch + 1
            self.seconds += time.perf_counter() - start
            record = {"epoch": self.epoch, "loss_d": float(sums[0] / steps), "loss_g": float(sums[1] / steps),
                      "d_accuracy": float(sums[2] / steps)}
            record.update(self._end_epoch(data))
            self.history.append(record)
            bar.set_postfix({k: round(v, 3) for k, v in record.items()})
            if checkpoint:
                self._save_checkpoint(Path(checkpoint))
            if self._stop():
                break
        bar.close()
        self._finish(data)
        return self

    @property
    def generator(self) -> nn.Module:
        """The generator that samples and exports: the weight average when ``ema`` is on."""
        return self.G_ema

    # ------------------------------------------------- what a family supplies
    def _setup(self, data) -> None:
        raise NotImplementedError

    def _prepare(self, data) -> int:
        raise NotImplementedError

    def _batches(self, epoch: int) -> Iterable:
        raise NotImplementedError

    def _step(self, batch, step: int) -> tuple[float, float, float]:
        """One step on ``batch``: (critic loss, generator loss or NaN, critic accuracy)."""
        raise NotImplementedError

    def _describe(self, data) -> str:
        return "GAN"

    def _train_mode(self) -> None:
        self.G.train(), self.D.train()

    def _end_epoch(self, data) -> dict:
        """Figures to add to the epoch's history record (validation, time)."""
        return {}

    def _stop(self) -> bool:
        return False

    def _finish(self, data) -> None:
        self.generator.eval()

    def _state(self) -> dict:
        return {}

    def _restore(self, state: dict) -> None:
        pass

    def _compared(self) -> list[str]:
        """The settings a checkpoint must share with this run to be resumed."""
        return [f.name for f in dataclasses.fields(self.config)]

    # --------------------------------------------------------- shared updates
    def _set_learning_rates(self, epoch: int) -> None:
        """Linear decay from ``lr_g``/``lr_d`` to ``lr_final`` times them at the last epoch (1 = constant)."""
        c = self.config
        if c.lr_final == 1.0:
            return
        scale = 1.0 - (1.0 - c.lr_final) * epoch / max(1, c.epochs - 1)
        for opt, lr in ((self.opt_g, c.lr_g), (self.opt_d, c.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * scale

    def _update_d(self, loss: torch.Tensor, clip: float = 0.0) -> None:
        self.opt_d.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(self.D.parameters(), clip)
        self.opt_d.step()

    def _update_g(self, loss: torch.Tensor) -> None:
        """A generator step, then the weight average follows it."""
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        if self.config.ema:
            update_ema(self.G_ema, self.G, self.config.ema)

    # ------------------------------------------------------------ checkpoints
    def _save_checkpoint(self, path: Path) -> None:
        state = {"config": dataclasses.asdict(self.config), "epoch": self.epoch, "seconds": self.seconds,
                 "G": self.G.state_dict(), "G_ema": self.G_ema.state_dict(), "D": self.D.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "history": self.history,
                 **self._state(), "torch_rng": torch.get_rng_state(), "data_rng": self.data_rng.get_state()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    def _load_checkpoint(self, path: Path) -> None:
        try:
            state = torch.load(path, weights_only=True)
        except Exception as exc:
            raise CheckpointError(f"checkpoint {path} is unreadable ({exc}); delete it or run without --resume") from exc
        saved = {k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()}
        mine = dataclasses.asdict(self.config)
        default = dataclasses.asdict(type(self.config)())  # a setting the checkpoint lacks came later: it trained at its default
        diff = {k for k in self._compared() if saved.get(k, default[k]) != mine[k] and k not in AFTER_TRAINING}
        if diff:
            raise CheckpointError(f"checkpoint {path} was made with different settings: {sorted(diff)}")
        self.G.load_state_dict(state["G"]), self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"]), self.opt_d.load_state_dict(state["opt_d"])
        self.epoch, self.seconds, self.history = state["epoch"], state["seconds"], state["history"]
        self._restore(state)
        torch.set_rng_state(state["torch_rng"])
        self.data_rng.set_state(state["data_rng"])


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
