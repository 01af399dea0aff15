"""The digit models' shared prerequisites (judge classifier, autoencoder) rebuilt from a committed model's graphs.

Retraining them on another machine or thread count gives other weights (the judge's and autoencoder's
training is not bit-reproducible across those), so a card's command would export another judge and
autoencoder than the committed models share. When the checkpoint folder lacks one, it is rebuilt from
the first committed model (sorted by id) whose card records the same settings. Export folds every
BatchNorm into the layer before it; the rebuilt network carries the folded weights and identity
BatchNorms, which export folds back to the very same weights.
"""
from __future__ import annotations

from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from explorer.runtime.models import DEFAULT_ROOT, read_card

NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def folded_state(module: nn.Module, graph: Path, prefix: str) -> dict | None:
    """``module``'s state from an exported graph's initializers named ``prefix`` + parameter name, with its
    BatchNorms set to the identity; None when the graph lacks one of the module's other weights."""
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(str(graph)).graph.initializer}
    state = module.state_dict()
    norms = {f"{name}.{key}" for name, m in module.named_modules() if isinstance(m, NORMS) for key in m.state_dict()}
    for key in state:
        if key in norms:
            continue
        value = weights.get(prefix + key)
        if value is None or value.shape != state[key].shape:
            return None
        state[key] = value
    for name, m in module.named_modules():
        if isinstance(m, NORMS):
            state[f"{name}.weight"] = torch.ones_like(state[f"{name}.weight"])
            state[f"{name}.bias"] = torch.zeros_like(state[f"{name}.bias"])
            state[f"{name}.running_mean"] = torch.zeros_like(state[f"{name}.running_mean"])
            state[f"{name}.running_var"] = torch.full_like(state[f"{name}.running_var"], 1 - m.eps)  # 1/√(var+ε) = 1
    return state


def restored(role: str, meta: dict, modules: dict[str, tuple[nn.Module, str, str]],
             root: Path = DEFAULT_ROOT) -> dict | None:
    """A prerequisite's checkpoint state ({name: state_dict, "info": ...}) from the first committed model whose
    card's ``role`` record ("judge" or "autoencoder") has settings ``meta``; ``modules`` maps each state's name
    to (an untrained module, its graph file, the graph's weight-name prefix)."""
    for folder in sorted(p.parent for p in Path(root).glob("mnist-*/card.json")):
        record = getattr(read_card(folder), role) or {}
        if record.get("settings") != meta:
            continue
        states = {name: folded_state(module, folder / graph, prefix) for name, (module, graph, prefix) in modules.items()}
        if all(s is not None for s in states.values()):
            info = {k: v for k, v in record.items() if k not in ("settings", "architecture", "labels_used")
                    and not k.startswith(("test_reconstruction", "fifty_label"))}
            return {**states, "info": {**info, "restored_from": folder.name}}
    return None
