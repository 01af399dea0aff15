"""Calibrate an already exported tabular generator: ``python -m training.calibrate_model``.

Nothing is retrained. The generator is rebuilt in torch from its own ONNX weights (training/twin.py,
checked to reproduce the source graph), calibrated on the training rows (training/calibrate.py:
per-class exact numeric marginals and category shares), and exported again with the calibration in
the graph. The new folder keeps the source's discriminator and history, and its card names the
source, the command and the code version beside the source's training record; its metrics are
measured again on the new graph.

Example:
  python -m training.calibrate_model --model adult-cgan-balanced   # → exported/adult-cgan-balanced-calibrated
"""
from __future__ import annotations

import argparse
import dataclasses
import shlex
import shutil
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from explorer.contract import Calibrated
from explorer.data.tables import load_table
from explorer.metrics.report import evaluate_tabular
from explorer.runtime.models import Model
from training.calibrate import BY_PARENT, METHOD, fit_calibration, parent_names
from training.export import _compare, code_version, file_entries, onnx_export, write_atomically
from training.twin import Twin, is_calibrated, network_from_onnx, transformer_for

ROOT = Path(__file__).resolve().parent.parent
MIN_AGREEMENT = 0.999  # the rebuilt generator must reproduce the source graph's categories


def calibrate_model(source: Model, folder: Path, command: str, evaluate: bool, by_parent: bool = False,
                    suffix: str = "-calibrated") -> None:
    card, table = source.card, load_table(source.card.dataset)
    path = source.folder / card.files["generator"].path
    if is_calibrated(path):
        raise ValueError(f"{source.id} is already calibrated")
    tf, network = transformer_for(card, table), network_from_onnx(path)
    n, seed = 4096, 0
    z, codes = source.noise(n, seed), (source.label_codes(n, seed) if source.classes else None)
    label = torch.from_numpy(np.eye(len(source.classes), dtype=np.float32)[codes]) if source.classes else None
    with torch.no_grad():
        rebuilt = Twin(network, tf.decoder())(torch.from_numpy(z), label)[1].numpy()
    same = (rebuilt == source.decode(z, codes)[1]).mean() if rebuilt.size else 1.0
    if same < MIN_AGREEMENT:
        raise AssertionError(f"the torch rebuild of {source.id} agrees on only {same:.2%} of categories")
    calibration = fit_calibration(network, tf, table, source.classes, source.latent_dim,
                                  seed=card.training.seed, by_parent=by_parent)
    twin = Twin(network, tf.decoder(calibration)).eval()
    args = (torch.from_numpy(z),) + ((label,) if label is not None else ())
    names = ["z"] + (["label"] if label is not None else [])
    onnx_export(twin, args, names, ["numeric", "categorical"], folder / "generator.onnx")
    with torch.no_grad():
        expected = twin(*args)
    session = ort.InferenceSession(str(folder / "generator.onnx"), providers=["CPUExecutionProvider"])
    _compare(expected, session.run(None, {k: a.numpy() for k, a in zip(names, args)}), tf.columns, "generator")
    files = {"generator": "generator.onnx"}
    for name in ("discriminator", "history"):
        if name in card.files:
            shutil.copy(source.folder / card.files[name].path, folder / card.files[name].path)
            files[name] = card.files[name].path
    calibrated_by = Calibrated(command=command, code_version=code_version(), source=source.id,
                               source_generator_sha256=card.files["generator"].sha256)
    new = card.replace(id=source.id + suffix, title=card.title + ", calibrated",
                       files=file_entries(folder, files),
                       preprocessing=dataclasses.replace(card.preprocessing, calibration=BY_PARENT if by_parent else METHOD,
                                                         calibration_parents=parent_names(calibration, tf)),
                       training=dataclasses.replace(card.training, calibrated=calibrated_by), metrics={})
    (folder / "card.json").write_text(new.to_json())
    if evaluate:
        model = Model.from_folder(folder)
        metrics = evaluate_tabular(model, table, seed=0)
        metrics["onnxruntime_provider"] = model.provider
        (folder / "card.json").write_text(new.replace(metrics=metrics).to_json())


def main(argv: list[str] | None = None) -> Path:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m training.calibrate_model", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="adult-cgan-balanced", help="an exported tabular gan or cgan model id")
    parser.add_argument("--out", type=Path, default=ROOT / "exported")
    parser.add_argument("--no-eval", action="store_true", help="skip the holdout metrics")
    parser.add_argument("--by-parent", action="store_true",
                        help="numeric tables per class and per level of each column's most associated categorical")
    parser.add_argument("--suffix", default="-calibrated", help="appended to the source id to name the new model")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    source = Model.load(args.model, args.out)
    condition = source.card.condition
    if not source.card.tabular or (condition and condition.type != "label"):
        parser.error(f"{args.model} is not a tabular GAN or label-conditional GAN")
    torch.set_num_threads(args.threads)
    command = "python -m training.calibrate_model " + shlex.join(argv)
    path = write_atomically(args.out, source.id + args.suffix,
                            lambda tmp: calibrate_model(source, tmp, command, not args.no_eval, args.by_parent, args.suffix))
    print(f"exported {path}")
    return path


if __name__ == "__main__":
    main()
