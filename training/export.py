"""Export a trained TabularGAN per the contract in DESIGN.md, atomically.

Everything is written to a hidden temporary folder beside the target, checked (onnx.checker,
onnxruntime vs torch), measured from the ONNX graph itself, and only then swapped in, so a
crash at any point leaves the previous model serving.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from explorer.contract import (BankRef, Card, Column, Condition, Constant, DataSplit, DateSpec, FileEntry, JudgeRef,
                               Preprocessing, Ranges, Refused, Source, Training)
from explorer.data.tables import Table
from explorer.runtime.models import Model, sha256
from explorer.runtime.judge import RANGE, forest_features
from explorer.metrics.report import evaluate_confidence, evaluate_instance, evaluate_tabular
from training.calibrate import BY_PARENT, METHOD as CALIBRATION, parent_names
from training.configs import TABLES
from training.confidence import ConfidenceGAN
from training.gan import TabularGAN
from training.instance import InstanceGAN

OPSET = 18
# a --quick card's holdout metrics: Adult's full ones (30,000 synthetic rows, forests on 10,000) took 23 s of CPU
QUICK_METRICS = dict(max_rows=2000, max_train=5000)
STACK_TRACE = "pkg.torch.onnx.stack_trace"  # node metadata the exporter fills with absolute source paths
# What torch.onnx.export (dynamo) prints that no user can act on, silenced one message at a time:
# a FutureWarning torch raises against its own pytree code, and the note that the inputs' shared
# "batch" axis keeps its name once (it does: every input and output is named ``batch``).
EXPORTER_NOISE = ((FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),
                  (UserWarning, r"# The axis name: batch will not be used, since it shares the same shape"))


class _NoTorchvisionNotice(logging.Filter):
    """torch.onnx's op registry logs "torchvision is not installed. Skipping torchvision::<op>" for
    each of torchvision's detection ops at every export (8 lines a model); no model here uses them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("torchvision is not installed")


logging.getLogger("torch.onnx._internal.exporter._registration").addFilter(_NoTorchvisionNotice())


class _Generator(nn.Module):
    def __init__(self, gan: TabularGAN):
        super().__init__()
        self.G, self.decode = gan.generator, gan.decoder()

    def forward(self, z):
        return self.decode(self.G(z))


class _CondGenerator(_Generator):
    def forward(self, z, label):
        return self.decode(self.G(z, label), label)


class _Discriminator(nn.Module):
    def __init__(self, gan: TabularGAN):
        super().__init__()
        self.D, self.encode = gan.D, gan.transformer_.encoder()

    def forward(self, numeric, categorical):
        return self.D(self.encode(numeric, categorical))


class _CondDiscriminator(_Discriminator):
    def forward(self, numeric, categorical, label):
        return self.D(self.encode(numeric, categorical), label)


def code_version() -> str:
    """The git commit of the code that made the model, marked dirty when any project module this
    process has loaded differs from that commit (other files' edits do not matter)."""
    root = Path(__file__).resolve().parent.parent
    loaded = sorted({str(Path(m.__file__).resolve().relative_to(root)) for m in list(sys.modules.values())
                     if getattr(m, "__file__", None) and Path(m.__file__).resolve().is_relative_to(root)})
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *loaded], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("-dirty" if dirty else "")


def onnx_export(module: nn.Module, args: tuple, names: list[str], outputs: list[str], path: Path) -> None:
    module.eval()
    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings():
        for category, message in EXPORTER_NOISE:
            warnings.filterwarnings("ignore", message=message, category=category)
        torch.onnx.export(module, args, str(path), input_names=names, output_names=outputs, dynamo=True,
                          dynamic_shapes=tuple({0: batch} for _ in args), external_data=False,
                          opset_version=OPSET, verbose=False)
    model = onnx.load(str(path))
    _drop_stack_traces(model.graph)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def _drop_stack_traces(graph: onnx.GraphProto) -> None:
    """The dynamo exporter writes each node's Python stack trace into the graph, with the absolute
    paths of the checkout and of site-packages: the same command run from another folder (or
    machine) would then write different bytes, and ship the build machine's paths. The other node
    metadata (module names, FX node) carries no paths and stays."""
    for node in graph.node:
        keep = [p for p in node.metadata_props if p.key != STACK_TRACE]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                _drop_stack_traces(sub)


def _compare(torch_out, ort_out, columns: list[Column], what: str) -> None:
    """onnxruntime must reproduce torch: categories identical, numerics within one rounding unit."""
    t_num, t_cat = (t.detach().numpy() for t in torch_out)
    o_num, o_cat = ort_out
    if t_cat.size and (t_cat == o_cat).mean() < 0.999:
        raise AssertionError(f"{what}: onnxruntime categories differ from torch in {(t_cat != o_cat).mean():.2%} of cells")
    numeric = [c for c in columns if c.numeric]
    tol = np.array([10.0 ** -c.decimals + 1e-4 * (c.max - c.min) for c in numeric])
    same = (np.abs(t_num - o_num) <= tol) | (np.isnan(t_num) & np.isnan(o_num))  # missing cells: NaN in both
    if t_num.size and same.mean() < 0.999:
        raise AssertionError(f"{what}: onnxruntime numerics differ from torch beyond rounding")


def export(gan: TabularGAN, table: Table, model_id: str, root: Path, command: str,
           title: str | None = None, evaluate: bool = True, instances: int = 50, quick: bool = False) -> Path:
    """Write exported/<model_id>/ and return it; the old folder is replaced only on success.
    ``instances``: training and holdout rows an IC-GAN's locality is measured on; ``quick``: the card's
    holdout metrics on smaller samples (QUICK_METRICS), as a smoke run's."""
    return write_atomically(root, model_id, lambda tmp: _write(gan, table, model_id, tmp, command, title, evaluate,
                                                               instances, quick))


def write_atomically(root: Path, model_id: str, write) -> Path:
    """Run ``write(tmp_folder)``, then swap the folder in as ``root/model_id``; on any failure the
    previous model stays in place, untouched."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    _recover(root, model_id)
    _clean_stale(root)
    tmp = root / f".tmp-{model_id}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap(tmp, root / model_id)
    return root / model_id


def file_entries(folder: Path, files: dict[str, str]) -> dict[str, FileEntry]:
    """The card's ``files`` block: path, sha256 and size of each file."""
    return {name: FileEntry(path=path, sha256=sha256(folder / path), bytes=(folder / path).stat().st_size)
            for name, path in files.items()}


def _write(gan: TabularGAN, table: Table, model_id: str, tmp: Path, command: str, title: str | None,
           evaluate: bool, instances: int, quick: bool = False) -> None:
    c, tf = gan.config, gan.transformer_
    gan.generator.eval(), gan.D.eval()
    n = 64
    z = torch.from_numpy(np.random.default_rng(0).standard_normal((n, gan.noise_dim), dtype=np.float32))
    confidence, instance = isinstance(gan, ConfidenceGAN), isinstance(gan, InstanceGAN)
    if confidence:
        cond_name, label = "confidence", torch.linspace(*RANGE, n)[:, None]
    elif instance:
        # the first n stored instances (repeated when a small table stores fewer): the export's probe batch
        cond_name, label = "instance", torch.from_numpy(gan.bank_[np.arange(n) % len(gan.bank_)])
    elif c.conditional:
        cond_name, label = "label", torch.eye(len(gan.classes_))[torch.arange(n) % max(1, len(gan.classes_))]
    else:
        cond_name, label = None, None
    g_args = (z, label) if cond_name else (z,)
    g_module = _CondGenerator(gan) if cond_name else _Generator(gan)
    g_names = ["z", cond_name] if cond_name else ["z"]
    onnx_export(g_module, g_args, g_names, ["numeric", "categorical"], tmp / "generator.onnx")
    with torch.no_grad():
        g_out = g_module(*g_args)
    feeds = {name: a.numpy() for name, a in zip(g_names, g_args)}
    _compare(g_out, ort.InferenceSession(str(tmp / "generator.onnx"), providers=["CPUExecutionProvider"])
             .run(None, feeds), tf.columns, "generator")
    files = {"generator": "generator.onnx"}
    if c.pac == 1:
        d_module = _CondDiscriminator(gan) if cond_name else _Discriminator(gan)
        d_args = tuple(torch.as_tensor(a) for a in g_out) + ((label,) if cond_name else ())
        d_names = ["numeric", "categorical"] + ([cond_name] if cond_name else [])
        onnx_export(d_module, d_args, d_names, ["logit"], tmp / "discriminator.onnx")
        with torch.no_grad():
            expected = d_module(*d_args).numpy()
        got = ort.InferenceSession(str(tmp / "discriminator.onnx"), providers=["CPUExecutionProvider"]).run(
            None, {name: a.numpy() for name, a in zip(d_names, d_args)})[0]
        if not np.allclose(expected, got, atol=1e-3, rtol=1e-3):
            raise AssertionError("discriminator: onnxruntime differs from torch")
        files["discriminator"] = "discriminator.onnx"
    (tmp / "history.json").write_text(json.dumps(gan.history))
    files["history"] = "history.json"
    train_share = table.train[table.target].value_counts(normalize=True) if table.target else {}
    condition = Condition(type="range" if table.range_of else "label", name=table.target, classes=list(gan.classes_),
                          train_share={k: float(train_share.get(k, 0)) for k in gan.classes_},
                          column=table.range_of or None, edges=table.edges if table.range_of else None) \
        if c.conditional else None
    if confidence:
        condition = _export_judge(gan, tmp)
        files["judge"] = "judge.onnx"
    if instance:
        condition = _export_instances(gan, tmp)
        files["instances"] = "instances.npz"
    kind = "confidence GAN" if confidence else "IC-GAN" if instance else "cGAN" if c.conditional else "GAN"
    card = Card(
        id=model_id,
        title=title or f"{table.name} {kind}",
        kind="tabular",
        dataset=table.name,
        architecture=_architecture(gan, cond_name),
        latent_dim=gan.noise_dim,
        latent_distribution="standard normal, drawn with numpy.random.default_rng(seed).standard_normal"
                            + ("; the last coordinate picks the mixture's member" if gan.mixture_ is not None else ""),
        condition=condition,
        target=table.target or None,
        minority_class=table.minority or None,
        columns=own_columns(tf.columns, table) if table.schema else tf.columns,
        table_columns=table_columns(table),
        preprocessing=Preprocessing(
            numeric="empirical CDF (sklearn QuantileTransformer, 10,000 quantiles) + logit; ties jittered inside "
                    "their CDF band; inverse in-graph",
            categorical="one-hot; straight-through hard one-hot in training, argmax in-graph",
            impute=c.impute, modes={k: str(v) for k, v in getattr(tf, "modes_", {}).items()},
            calibration=(BY_PARENT if c.calibrate_parent else CALIBRATION) if c.calibrate else None,
            calibration_parents=parent_names(getattr(gan, "calibration_", None), tf)),
        data=DataSplit(split=table.split, train_rows=len(table.train), holdout_rows=len(table.holdout)),
        files=file_entries(tmp, files),
        training=Training(command=command, seed=c.seed, epochs_run=gan.epoch, best_epoch=gan.best_epoch,
                          seconds=round(gan.seconds, 1), code_version=code_version(),
                          torch=torch.__version__, python=platform.python_version(),
                          config=c.record(TABLES)),
        **(own_table_card(table) if table.schema else {}),
    )
    (tmp / "card.json").write_text(card.to_json())
    if evaluate:
        model = Model.from_folder(tmp)
        metrics = evaluate_tabular(model, table, seed=0, **(QUICK_METRICS if quick else {}))
        if confidence:
            metrics["confidence"] = evaluate_confidence(model, table, seed=0)
            if gan.remap_curve_ is not None:  # the generator's own input vs achieved curve the map inverts
                metrics["confidence"]["input_curve"] = gan.remap_curve_
        if instance:
            metrics["instance"] = evaluate_instance(model, table, seed=0, instances=instances)
        metrics["onnxruntime_provider"] = model.provider
        (tmp / "card.json").write_text(card.replace(metrics=metrics).to_json())


def table_columns(table: Table) -> list[str]:
    """The columns a model's rows have: a user table's learned and constant columns in the file's order
    (and last, a numeric target's range), or a built-in table's columns."""
    if not table.schema:
        return list(table.train.columns)
    return [c.name for c in table.schema.columns if c.kind != "refused"] + ([table.target] if table.range_of else [])


def own_columns(columns: list[Column], table: Table) -> list[Column]:
    """The card's column entries of a user table: each with its missing share and written-back type; dates
    keep a numeric output slot (whole units after an origin) that readers render as dates."""
    out = []
    for col in columns:
        spec = table.schema[col.name]
        date = DateSpec(unit=spec.unit, origin=spec.origin) if spec.kind == "datetime" else None
        out.append(dataclasses.replace(col, missing=round(spec.missing, 6), dtype=spec.dtype, datetime=date))
    return out


def own_table_card(table: Table) -> dict:
    """What a card of a user table adds: the source file, the schema, constant and refused columns."""
    ranges = Ranges(name=table.target, column=table.range_of, edges=list(table.edges),
                    classes=list(table.categories[table.target])) if table.range_of else None
    source = {k: v for k, v in table.source.items() if k in {f.name for f in dataclasses.fields(Source)}}
    return {"source": Source(**source), "schema": table.schema.to_dict(), "ranges": ranges,
            "target_column": table.range_of or table.target or None,
            "constants": [Constant(name=c.name, value=c.value, dtype=c.dtype)
                          for c in table.schema.columns if c.kind == "constant"],
            "refused": [Refused(name=c.name, reason=c.reason) for c in table.schema.refused]}


def forest_onnx(forest, features: int) -> bytes:
    """A fitted forest as ONNX (skl2onnx) with input ``X`` and output ``probabilities``. The graph is
    named, not left to skl2onnx's random name, so the same forest always gives the same bytes."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onx = convert_sklearn(forest, initial_types=[("X", FloatTensorType([None, features]))],
                          options={id(forest): {"zipmap": False}}, target_opset={"": OPSET, "ai.onnx.ml": 3})
    onx.graph.name = "judge"
    return onx.SerializeToString()


def _export_judge(gan: ConfidenceGAN, tmp: Path) -> Condition:
    """The judge forest as ONNX, checked against scikit-learn; returns the card's condition."""
    forest = gan.forest_
    (tmp / "judge.onnx").write_bytes(forest_onnx(forest, len(gan.features_)))
    onnx.checker.check_model(onnx.load(str(tmp / "judge.onnx")), full_check=True)
    frame = gan.sample(500, seed=7, confidence=np.linspace(*RANGE, 500))
    x = forest_features(gan.transformer_.columns, frame, gan.features_)
    got = ort.InferenceSession(str(tmp / "judge.onnx"), providers=["CPUExecutionProvider"]).run(
        ["probabilities"], {"X": x})[0]
    if not np.allclose(got, forest.predict_proba(x), atol=1e-5):
        raise AssertionError("judge: onnxruntime probabilities differ from scikit-learn")
    return Condition(type="confidence", name="confidence", range=list(RANGE), target=gan.target,
                     positive_class=gan.positive_, positive_index=int(list(forest.classes_).index(True)),
                     judge=JudgeRef(file="judge.onnx", features=list(gan.features_),
                                    model="RandomForestClassifier(n_estimators=100, scikit-learn defaults) on the "
                                          "real training rows (R2)"),
                     train_quantiles=np.quantile(gan.train_confidence_, np.linspace(0, 1, 101)).round(4).tolist(),
                     candidates=gan.config.confidence_candidates)


def _export_instances(gan: InstanceGAN, tmp: Path) -> Condition:
    """The bank of training-row embeddings (sampling without a chosen row draws from it); returns
    the card's condition, which says how to embed any row."""
    np.savez_compressed(tmp / "instances.npz", instances=gan.bank_)
    return Condition(type="instance", name="instance", dim=int(gan.bank_.shape[1]), k=gan.k_,
                     space=gan.space_, embedding="min-max-scaled numerics, then one-hot categoricals, in the "
                     "order of space (explorer/instances.py)", bank=BankRef(file="instances.npz", rows=len(gan.bank_)))


def _architecture(gan: TabularGAN, cond_name: str | None) -> str:
    """One line for the card; ``cond_name`` is the generator's condition input as ``_write`` chose it."""
    c = gan.config
    what = {"label": "conditional ", "confidence": "confidence-conditioned ", "instance": "instance-conditioned "}
    return (f"{what.get(cond_name, '')}MLP GAN, loss {c.loss}; G {c.latent_dim}"
            f"{f'+{cond_name}' if cond_name else ''} → {'-'.join(map(str, c.g_hidden))} → {gan.transformer_.dim}"
            f"{' (BatchNorm)' if c.batchnorm else ''}; D {'-'.join(map(str, c.d_hidden))} → 1"
            f"{f', PacGAN {c.pac}' if c.pac > 1 else ''}"
            + (f"; {gan.mixture_description()}, the noise's last coordinate picking the member"
               if gan.mixture_ is not None else ""))


def _swap(tmp: Path, final: Path) -> None:
    """Two renames; a crash between them leaves ``.old-<id>`` which ``_recover`` restores."""
    old = final.parent / f".old-{final.name}"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def _clean_stale(root: Path) -> None:
    """Remove the ``.tmp-<id>-<pid>`` folders of exports whose process is gone (killed mid-export)."""
    for folder in root.glob(".tmp-*-*"):
        pid = folder.name.rpartition("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _recover(root: Path, model_id: str) -> None:
    old, final = root / f".old-{model_id}", root / model_id
    if old.exists() and not final.exists():
        os.replace(old, final)
