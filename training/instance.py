"""Instance-conditioned tabular GAN (IC-GAN, Casanova et al. 2021, surveyed in R5) for "more rows like this one".

The condition is a real row's embedding (explorer/instances.py: min-max numerics + one-hots).
Each step draws instances uniformly from the training rows and, as the real batch, one of each
instance's k nearest training rows; the generator learns a local density around every instance,
and the whole model is the mixture of them. Because the condition is an embedding, not an index,
a row the model never saw (a holdout row, a row a user types in) works without retraining.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from explorer.data.tables import Table
from explorer.runtime.instance_space import embed, instance_dim, instance_input, instance_space
from explorer.metrics.instances import locality, neighbours
from training.gan import TabularGAN

BANK = 5000  # training-row embeddings shipped with the model, for sampling without a chosen instance


class InstanceGAN(TabularGAN):
    """TabularGAN whose condition is the embedding of one real row."""

    mixes = False

    def _setup(self, table: Table) -> None:
        own = table.train.drop(columns=[table.target]) if table.range_of else table.train  # ranges: not generated
        self.space_ = instance_space(own, table.numeric, table.categories)
        super()._setup(table)
        self.embedding_ = embed(self.space_, table.train)
        self.k_ = min(self.config.instance_k, len(table.train))  # a small table has fewer rows than k
        self.neighbours_ = torch.from_numpy(neighbours(self.embedding_, self.k_))
        picked = np.random.default_rng(self.config.seed).choice(len(table.train), min(BANK, len(table.train)), replace=False)
        self.bank_ = self.embedding_[np.sort(picked)]
        self.numeric_ = list(table.numeric)
        self.train_ = own

    def _cond_dim(self) -> int:
        return instance_dim(self.space_)

    def _tensors(self, table: Table):
        low, high, onehot, _ = super()._tensors(table)
        return low, high, onehot, torch.from_numpy(self.embedding_)

    def _batch(self, idx: torch.Tensor, conditions):
        """Instances ``idx``; real rows: one random neighbour of each."""
        pick = torch.randint(0, self.k_, (len(idx),), generator=self.data_rng)
        return self.neighbours_[idx, pick], conditions[idx]

    def _sample_condition(self, n: int, seed: int, instance=None):
        """One row (repeated), n rows, or (None) n instances drawn from the shipped bank — as the app draws them."""
        chosen = instance_input(self.space_, self.bank_, n, seed, instance)
        return torch.from_numpy(np.ascontiguousarray(chosen, dtype=np.float32))

    validation_instances = 10  # training rows whose locality model selection weighs (a --quick run: 3)

    def _extra_validation(self, per_instance: int = 50) -> dict:
        """Locality on a few training instances: the distance ratio and the local detection AUC."""
        k = self.k_
        rng = np.random.default_rng(4321)
        picks = rng.choice(len(self.train_), min(self.validation_instances, len(self.train_)), replace=False)
        reference = self.train_.sample(min(500, len(self.train_)), random_state=1)
        ratios, aucs = [], []
        for j, i in enumerate(picks):
            instance = self.train_.iloc[[i]]
            generated = self.sample(max(per_instance, k), seed=j, instance=instance)
            hood = self.train_.iloc[self.neighbours_[i].numpy()]
            m = locality(self.space_, instance, generated, hood, reference, self.numeric_, seed=j)
            ratios.append(m["distance_ratio"]), aucs.append(m["detection_auc"])
        ratio, auc = float(np.median(ratios)), float(np.mean(aucs))
        return {"val_distance_ratio": ratio, "val_local_detection": auc,
                "val_penalty": max(0.0, ratio - 0.3) + max(0.0, auc - 0.5)}

    def _validation_sample(self, real: pd.DataFrame) -> pd.DataFrame:
        return self.sample(len(real), seed=1234)
