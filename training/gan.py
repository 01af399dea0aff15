"""TabularGAN: the tables' GAN estimator (fit / sample) on the training core's loop (training/core.py).

One class covers R1's GAN and cGAN and R2's tricks: every trick is a setting, off by default unless
the measurements chose it. It supplies what only tables have: the transformer, packed MLP networks,
batches of jittered real rows, the step with R2's tricks and the marginal loss, and model selection
on training rows; the core runs the epochs, progress and checkpoints.
"""
from __future__ import annotations

import copy
import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from explorer.data.tables import Table
from explorer.metrics.diagnostics import detection_auc_lr, detection_auc_rf, fidelity, missing_shares
from explorer.runtime.frames import outputs_to_frame, range_labels
from training import core
from training.configs import TABLES, Settings
from training.core import CheckpointError  # noqa: F401  (raised by fit; importable from here as before)
from training.calibrate import fit_calibration
from training.missing_shares import match_missing_shares
from training.nets import Discriminator, Generator, HardOneHot, Mixture, xavier_init
from training.transforms import TableTransformer, jittered_logits

RUN_SEEDS = 1000  # run r of ``runs`` trains with seed + 1000 r: the runs of seeds 0, 1, 2 share no run
MISSING_ROWS = 20_000  # rows drawn to match missing shares after training (share error about 0.3 %)


class TabularGAN(core.GAN):
    """A GAN of one table: ``TabularGAN(config_for(...)).fit(table)``, then ``sample(n, seed, labels=...)``."""

    config: Settings
    mixes = True  # whether ``snapshots`` > 1 may make the exported generator a mixture (gan and cgan)

    # ----------------------------------------------------------------- setup
    def _setup(self, table: Table) -> None:
        c = self.config
        torch.manual_seed(c.seed)
        self.table_name, self.target = table.name, table.target
        # the target is the condition of a cGAN; a numeric target's ranges are never generated (its values are)
        cats = [col for col in table.categorical if not ((c.conditional or table.range_of) and col == table.target)]
        self.ranges_ = (table.range_of, table.edges, table.categories[table.target]) if table.range_of else None
        self.constants_ = {s.name: s.value for s in table.schema.columns if s.kind == "constant"} \
            if table.schema else {}
        self.classes_ = list(table.categories[table.target]) if c.conditional else []
        self.transformer_ = TableTransformer(impute=c.impute).fit(table.train, table.numeric, cats, table.categories)
        tf = self.transformer_
        cond_dim = self._cond_dim()
        self.G = Generator(c.latent_dim, cond_dim, tf.dim, c.g_hidden, c.batchnorm, c.g_slope)
        self.D = Discriminator(tf.dim, cond_dim, c.d_hidden, c.dropout, c.d_slope, c.spectral_norm,
                               c.minibatch_discrimination, c.pac, len(tf.numeric_), c.d_bins)
        if c.xavier:
            xavier_init(self.G), xavier_init(self.D)
        self.activate = HardOneHot(len(tf.numeric_), tf.cat_sizes)
        opt = (lambda p, lr: torch.optim.Adam(p, lr, betas=(0.5, 0.9))) if c.optimizer == "adam" \
            else (lambda p, lr: torch.optim.RMSprop(p, lr))
        self.opt_g, self.opt_d = opt(self.G.parameters(), c.lr_g), opt(self.D.parameters(), c.lr_d)
        self.best_state, self.best_score, self.best_epoch, self.stale = None, -np.inf, 0, 0
        self.snapshots_, self.mixture_ = [], None  # (score, epoch, G's state) of the best evaluations
        self.other_runs_ = []  # runs 2.. of ``runs``: (seed, their best evaluations, seconds)
        self.data_rng = torch.Generator().manual_seed(c.seed)

    def _cond_dim(self) -> int:
        return len(self.classes_)

    def _tensors(self, table: Table):
        tf = self.transformer_
        low, high = (torch.from_numpy(a) for a in tf.cdf_bands(table.train))
        onehot = torch.from_numpy(tf.one_hot(table.train))
        labels = None
        if self.config.conditional:
            codes = pd.Categorical(table.train[table.target], categories=self.classes_).codes
            labels = torch.eye(len(self.classes_))[torch.from_numpy(codes.astype(np.int64))]
        return low, high, onehot, labels

    # ------------------------------------------------------------- training
    def fit(self, data: Table, checkpoint: str | Path | None = None, resume: bool = False, progress: bool = True):
        """With ``runs`` > 1, runs 2.. train in worker processes (seeds seed+1000, ...; checkpoints beside this
        run's) while this one trains, the cores shared between them; ``_finish`` then mixes all their snapshots."""
        c = self.config
        if (c.snapshots > 1 or c.runs > 1) and not self.mixes:  # before any worker starts
            raise ValueError("snapshots > 1 and runs > 1 work for the gan and cgan architectures")
        if c.runs == 1:
            return super().fit(data, checkpoint, resume, progress)
        threads = self.threads_ = torch.get_num_threads()
        share = max(1, threads // c.runs)
        with ProcessPoolExecutor(c.runs - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
            others = [dataclasses.replace(c, seed=c.seed + RUN_SEEDS * r, runs=1) for r in range(1, c.runs)]
            self.pending_runs_ = [pool.submit(_member_run, type(self), other, data, _run_checkpoint(checkpoint, r),
                                              resume, share) for r, other in enumerate(others, 1)]
            torch.set_num_threads(share)
            try:
                return super().fit(data, checkpoint, resume, progress)
            finally:
                torch.set_num_threads(threads)
                for future in self.pending_runs_:
                    future.cancel()

    def _describe(self, table: Table) -> str:
        return f"{table.name} {'cGAN' if self.config.conditional else 'GAN'}"

    def _prepare(self, table: Table) -> int:
        c = self.config
        self.tensors_ = self._tensors(table)
        labels = self.tensors_[3]
        self.weights_ = None
        if c.conditional and c.balanced:
            counts = labels.sum(0)
            self.weights_ = (labels / counts).sum(1)
        self.steps_ = max(1, len(self.tensors_[0]) // c.batch_size)
        return self.steps_ * c.batch_size

    def _batches(self, epoch: int):
        """Each step's real rows (jittered inside their CDF bands) and condition; the whole epoch's order first."""
        c = self.config
        low, high, onehot, labels = self.tensors_
        self.noise_std_ = c.instance_noise * (1 - epoch / c.epochs)
        if self.weights_ is None:
            order = torch.randperm(len(low), generator=self.data_rng)
        else:
            order = torch.multinomial(self.weights_, self.steps_ * c.batch_size, True, generator=self.data_rng)
        for step in range(self.steps_):
            rows, cond = self._batch(order[step * c.batch_size:(step + 1) * c.batch_size], labels)
            yield torch.cat([jittered_logits(low[rows], high[rows], self.data_rng), onehot[rows]], 1), cond

    def _step(self, batch, step: int):
        real, cond = batch
        d_loss, d_acc = self._d_step(real, cond, self.noise_std_)
        g_loss = self._g_step(real, cond) if step % self.config.n_critic == 0 else np.nan
        return d_loss, g_loss, d_acc

    def _end_epoch(self, table: Table) -> dict:
        c = self.config
        return self._evaluate(table) if self.epoch % c.eval_every == 0 or self.epoch == c.epochs else {}

    def _stop(self) -> bool:
        return bool(self.config.patience and self.stale >= self.config.patience)

    @property
    def generator(self) -> torch.nn.Module:
        """After training with ``snapshots`` > 1: the mixture of the best evaluations' generators."""
        return self.mixture_ if getattr(self, "mixture_", None) is not None else super().generator

    @property
    def noise_dim(self) -> int:
        """The width of the generator's noise: a mixture takes one more coordinate, which picks the member."""
        return self.config.latent_dim + (self.mixture_ is not None)

    @property
    def snapshot_epochs(self) -> list[int]:
        return sorted(epoch for _, epoch, _ in self.snapshots_) if self.mixture_ is not None else []

    def _own_best(self) -> list[tuple]:
        """This run's members: its best evaluations, or its best one."""
        return self.snapshots_ or [(self.best_score, self.best_epoch, self.best_state)]

    def _finish(self, table: Table) -> None:
        if getattr(self, "member_only", False):  # a worker of ``runs``: its snapshots are all the parent needs
            return
        if self.best_state is not None:
            self.generator.load_state_dict(self.best_state)
        if self.config.runs > 1:
            self.other_runs_ = [future.result() for future in self.pending_runs_]
            torch.set_num_threads(self.threads_)  # the cores are free again for calibration
            self.seconds = max([self.seconds] + [seconds for _, _, seconds in self.other_runs_])  # side by side
        members = [state for run in [self._own_best()] + [best for _, best, _ in self.other_runs_]
                   for _, _, state in sorted(run, key=lambda s: s[1])]
        if len(members) > 1:
            self.mixture_ = Mixture([self._member(state) for state in members])
        self.generator.eval()
        c = self.config
        like_real = table.train.sample(MISSING_ROWS, replace=True, random_state=c.seed)  # conditions as in training
        self.missing_shifts_ = match_missing_shares(self.generator, self.transformer_, table.train,
                                                    lambda: self._validation_sample(like_real))
        self.calibration_ = self._calibrate(table) if c.calibrate else None

    def mixture_description(self) -> str:
        """The card's words for the mixture's members, or ''."""
        if self.mixture_ is None:
            return ""
        runs = [(self.config.seed, self._own_best())] + [(seed, best) for seed, best, _ in self.other_runs_]
        epochs = [", ".join(str(e) for e in sorted(epoch for _, epoch, _ in best)) for _, best in runs]
        if len(runs) == 1:
            return (f"an equal mixture of G at epochs {epochs[0]} (the {len(self.snapshot_epochs)} best-scoring "
                    "evaluations)")
        each = "; ".join(f"seed {seed}: epochs {e}" for (seed, _), e in zip(runs, epochs))
        return (f"an equal mixture of G from {len(runs)} runs trained side by side, each run's best-scoring "
                f"evaluations ({each})")

    def _member(self, state: dict) -> torch.nn.Module:
        member = copy.deepcopy(self.generator)
        member.load_state_dict(state)
        return member.eval()

    def _state(self) -> dict:
        return {"best_state": self.best_state, "best_score": float(self.best_score), "best_epoch": self.best_epoch,
                "stale": self.stale, "snapshots": self.snapshots_}

    def _restore(self, state: dict) -> None:
        self.best_state, self.best_score = state["best_state"], state["best_score"]
        self.best_epoch, self.stale = state["best_epoch"], state["stale"]
        self.snapshots_ = state.get("snapshots", [])

    def _compared(self) -> list[str]:
        return Settings.names(TABLES)

    def _calibrate(self, table: Table):
        if self._cond_dim() != len(self.classes_):
            raise ValueError("calibrate works for the gan and cgan architectures (label or no condition)")
        return fit_calibration(self.generator, self.transformer_, table, self.classes_, self.noise_dim,
                               seed=self.config.seed, by_parent=self.config.calibrate_parent)

    def decoder(self):
        """The in-graph decoding of the generator's output, calibrated when ``calibrate`` is on."""
        return self.transformer_.decoder(getattr(self, "calibration_", None))

    def _batch(self, idx: torch.Tensor, conditions):
        """The real rows a step trains on and their condition (see training/instance.py for another pairing)."""
        return idx, (conditions[idx] if conditions is not None else None)

    def _pack(self, n: int) -> int:
        return n - n % self.config.pac

    def _fake(self, n: int, cond):
        z = torch.randn(n, self.config.latent_dim)
        return self.activate(self.G(z, cond))

    def _d_step(self, real, cond, noise_std):
        c = self.config
        n = self._pack(len(real))
        real, cond = real[:n], (cond[:n] if cond is not None else None)
        with torch.no_grad():
            fake = self._fake(n, cond)
        if noise_std > 0:
            real = real + noise_std * torch.randn_like(real)
            fake = fake + noise_std * torch.randn_like(fake)
        s_real, s_fake = self.D(real, cond), self.D(fake, cond)
        if c.loss == "wgan-gp":
            loss = core.d_loss(s_real, s_fake, c.loss) + c.gp_weight * self._gradient_penalty(real, fake, cond)
        elif c.loss == "hinge":
            loss = core.d_loss(s_real, s_fake, c.loss)
        else:
            t_real, t_fake = 1.0 - c.label_smoothing, 0.0
            if c.label_flip and torch.rand(1, generator=self.data_rng).item() < c.label_flip:
                t_real, t_fake = t_fake, t_real
            loss = core.d_loss(s_real, s_fake, c.loss, t_real, t_fake)
        self._update_d(loss, c.grad_clip)
        threshold = 0.0 if c.loss == "bce" else (s_real.mean() + s_fake.mean()).item() / 2
        return loss.item(), core.critic_accuracy(s_real, s_fake, threshold).item()

    def _gradient_penalty(self, real, fake, cond):
        pac = self.config.pac  # one mixing weight per pack, the norm over the whole pack
        alpha = torch.rand(len(real) // pac, 1, 1).expand(-1, pac, 1).reshape(len(real), 1)
        return core.gradient_penalty(lambda mix: self.D(mix, cond), real, fake, alpha, group=pac)

    def _g_step(self, real, cond):
        c = self.config
        n = self._pack(len(real))
        real, cond = real[:n], (cond[:n] if cond is not None else None)
        fake = self._fake(n, cond)
        loss = core.g_loss(self.D(fake, cond), c.loss)
        if c.marginal_weight:
            loss = loss + c.marginal_weight * self._marginal_loss(real, fake)
        loss = loss + self._extra_g_loss(n)
        self._update_g(loss)
        return loss.item()

    def _extra_g_loss(self, n: int):
        """Subclasses add their own generator objective here (see training/confidence.py)."""
        return 0.0

    def _marginal_loss(self, real, fake):
        """Per-column distance between the batch's real and fake marginals (R5, Ashrapov 2020):
        1-D Wasserstein of each numeric column (sorted values) plus L1 of category frequencies.
        The critic judges joint structure; this term pins every marginal down quickly."""
        k = len(self.transformer_.numeric_)
        num = (torch.sort(fake[:, :k], 0).values - torch.sort(real[:, :k], 0).values).abs().mean(0).sum()
        cat = (fake[:, k:].mean(0) - real[:, k:].mean(0)).abs().sum()
        return num + cat

    def _evaluate(self, table: Table, n: int = 4000) -> dict:
        """Model selection on training rows only (the holdout stays unseen until export):
        marginals (KS/TV) and joint structure (logistic and forest detection) both count."""
        real = table.train.sample(min(n, len(table.train)), random_state=0)
        fake = self._validation_sample(real)
        if self.ranges_ and self.target not in fake:
            fake[self.target] = range_labels(self.ranges_[1], self.ranges_[2], fake[self.ranges_[0]])
        real = self.transformer_.clean(real)
        fid = float(fidelity(real, fake, table.numeric)["complement"].mean())
        det = float(detection_auc_lr(real, fake, table.numeric, folds=3))
        det_rf = float(detection_auc_rf(real, fake, table.numeric, folds=3, max_rows=2000))
        extra = self._extra_validation()
        gaps = missing_shares(real, fake)  # users' tables: the missing share of each column counts too
        if len(gaps):
            extra["val_missing_gap"] = float((gaps["real"] - gaps["synthetic"]).abs().max())
        score = fid - (det - 0.5) - (det_rf - 0.5) - extra.get("val_penalty", 0.0) - extra.get("val_missing_gap", 0.0)
        if score > self.best_score:
            self.best_score, self.best_epoch, self.stale = score, self.epoch, 0
            self.best_state = copy.deepcopy(self.generator.state_dict())
        else:
            self.stale += 1
        if self.config.snapshots > 1:
            self.snapshots_.append((score, self.epoch, copy.deepcopy(self.generator.state_dict())))
            self.snapshots_ = sorted(self.snapshots_, key=lambda s: -s[0])[:self.config.snapshots]
        self.G.train()
        return {"val_fidelity": fid, "val_detection_lr": det, "val_detection_rf": det_rf, **extra, "val_score": score}

    def _validation_sample(self, real: pd.DataFrame) -> pd.DataFrame:
        """Synthetic rows matched to the validation rows (their labels, for a cGAN)."""
        return self.sample(len(real), seed=1234, labels=real[self.target] if self.config.conditional else None)

    def _extra_validation(self) -> dict:
        """Subclass-specific validation figures; ``val_penalty`` is subtracted from the score."""
        return {}

    # ------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, **condition) -> pd.DataFrame:
        """n decoded rows; the noise comes from numpy exactly as the app draws it. ``condition``:
        ``labels`` for a cGAN (``confidence`` and ``instance`` for the subclasses)."""
        self.generator.eval()
        z = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, self.noise_dim), dtype=np.float32))
        cond = self._sample_condition(n, seed, **condition)
        numeric, categorical = self.decoder()(self.generator(z, cond), cond)
        frame = outputs_to_frame(self.transformer_.columns, numeric.numpy(), categorical.numpy())
        if self.config.conditional:
            frame[self.target] = np.asarray(condition["labels"])
        for name, value in getattr(self, "constants_", {}).items():  # kept, never learned
            frame[name] = value
        return frame

    def _sample_condition(self, n: int, seed: int, labels=None):
        """The generator's condition input for ``sample``: one-hot labels for a cGAN, else None."""
        if not self.config.conditional:
            return None
        if labels is None:
            raise ValueError("a conditional model needs labels")
        codes = pd.Categorical(np.asarray(labels), categories=self.classes_).codes
        return torch.eye(len(self.classes_))[torch.from_numpy(codes.astype(np.int64))]


def _run_checkpoint(checkpoint: str | Path | None, run: int) -> Path | None:
    return None if checkpoint is None else Path(checkpoint).with_suffix(f".run{run}.pt")


def _member_run(cls, config: Settings, table: Table, checkpoint: Path | None, resume: bool, threads: int):
    """One of ``runs``' other runs, in a worker process: (seed, its best evaluations, seconds)."""
    torch.set_num_threads(threads)
    gan = cls(config)
    gan.member_only = True
    gan.fit(table, checkpoint, resume, progress=False)
    return config.seed, gan._own_best(), gan.seconds
