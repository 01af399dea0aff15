"""A tabular generator rebuilt in torch from its exported generator.onnx and card.

The Gemm weights are read from the graph (BatchNorm is already folded into them), the table
transformer is refitted from the real rows exactly as training fitted it, and a calibration
(training/calibrate.py) is read back from the graph's own tables. Used to calibrate an exported
model after the fact (training/calibrate_model.py) and as the speed benchmark's torch twin.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from explorer.contract import Card
from explorer.data.tables import Table, load_table
from training.nets import Mixture
from training.transforms import Calibration, TableTransformer

MEMBER = re.compile(r"members\.(\d+)\.")  # a mixture's weights: members.<k>.net...


class Network(nn.Module):
    """The generator's MLP: z (+ one-hot label) → raw row in the transformer's space."""

    def __init__(self, layers: nn.Sequential):
        super().__init__()
        self.net = layers

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z if cond is None else torch.cat([z, cond], 1))


class Twin(nn.Module):
    """Network then in-graph decoding: what generator.onnx computes."""

    def __init__(self, network: Network, decoder: nn.Module):
        super().__init__()
        self.network, self.decode = network, decoder

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None):
        return self.decode(self.network(z, label), label)


def network_from_onnx(path: Path) -> nn.Module:
    """The generator's network: one MLP, or the mixture of MLPs a generator trained with ``snapshots`` holds."""
    graph = onnx.load(str(path)).graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    members: dict[int, list[nn.Module]] = {}
    for node in graph.node:
        if node.op_type == "Gemm":
            w, b = weights[node.input[1]], weights[node.input[2]]
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            w = w if trans_b else w.T
            lin = nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data, lin.bias.data = torch.from_numpy(w.copy()), torch.from_numpy(b.copy())
            member = MEMBER.search(node.input[1])
            members.setdefault(int(member.group(1)) if member else 0, []).extend([lin, nn.ReLU()])
    if not members:
        raise ValueError(f"{path} has no Gemm layers: not a float MLP generator (an int8 copy? use its source)")
    networks = [Network(nn.Sequential(*layers[:-1])) for _, layers in sorted(members.items())]
    return (Mixture(networks) if len(networks) > 1 else networks[0]).eval()


def calibration_from_onnx(path: Path, parents: dict[str, str] | None = None,
                          tf: TableTransformer | None = None) -> Calibration | None:
    """The graph's calibration, or None. A calibration by parent also needs the card's ``calibration_parents``
    and the transformer: the exporter folds the parents' indices into the graph."""
    weights = {i.name.split(".")[-1]: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    if "group_steps" in weights:  # calibrated by parent: every column's [class, group, level] tables in a row
        if tf is None:
            raise ValueError(f"{path} is calibrated by parent: give the card's parents and the transformer")
        return _by_parent(weights, parents or {}, tf)
    if "class_steps" in weights:  # [class, column, level, (value, step to the next level)]
        tables = weights["class_steps"][..., 0]
    elif "class_tables" in weights:  # written before the steps were stored beside the levels
        tables = weights["class_tables"]
    else:
        return None
    # a table without categorical columns has an empty bias, dropped by the exporter
    return Calibration(tables=tables, bias=weights.get("class_bias", np.zeros((tables.shape[0], 0), np.float32)))


def is_calibrated(path: Path) -> bool:
    names = {i.name.split(".")[-1] for i in onnx.load(str(path)).graph.initializer}
    return bool(names & {"group_steps", "class_steps", "class_tables"})


def _by_parent(weights: dict, parents: dict[str, str], tf: TableTransformer) -> Calibration:
    cats = [c.name for c in tf.categorical_]
    numeric_parents = [cats.index(parents[c.name]) if c.name in parents else -1 for c in tf.numeric_]
    category_parents = [cats.index(parents[c]) if c in parents else -1 for c in cats]
    bias, levels, offsets = weights["class_bias"], weights["group_levels"], weights["group_offset"]
    n_classes = bias.shape[0]
    flat = weights["group_steps"][:, 0]
    n_levels = len(flat) // (n_classes * int(levels.sum()))
    groups = [flat[o * n_levels:(o + n_classes * k) * n_levels].reshape(n_classes, k, n_levels)
              for o, k in zip(offsets, levels)]
    if [k > 1 for k in levels] != [p >= 0 for p in numeric_parents]:
        raise ValueError("the graph's calibration groups do not match the card's calibration_parents")
    sizes = tf.cat_sizes
    return Calibration(tables=np.stack([g[:, 0] for g in groups], 1), bias=bias, parents=numeric_parents,
                       by_parent={j: g for j, g in enumerate(groups) if numeric_parents[j] >= 0},
                       category_parents=category_parents,
                       category_bias={c: weights[f"category_bias_{c}"].reshape(n_classes, sizes[p], sizes[c])
                                      for c, p in enumerate(category_parents) if p >= 0})


def transformer_for(card: Card, table: Table) -> TableTransformer:
    numeric = [c.name for c in card.numeric_columns]
    categorical = [c.name for c in card.categorical_columns]
    return TableTransformer(impute=card.preprocessing.impute).fit(table.train, numeric, categorical, table.categories)


def torch_twin(folder: Path, card: Card, table: Table | None = None) -> Twin:
    path = Path(folder) / card.files["generator"].path
    table = table or load_table(card.dataset)
    tf = transformer_for(card, table)
    calibration = calibration_from_onnx(path, card.preprocessing.calibration_parents, tf)
    return Twin(network_from_onnx(path), tf.decoder(calibration)).eval()
