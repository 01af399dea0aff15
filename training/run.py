"""Train and export the generators: ``python -m training.run``.

Examples:
  python -m training.run                              # all six default models
  python -m training.run --dataset adult --arch cgan  # one model
  python -m training.run --quick --out /tmp/models    # seconds-long smoke run
  python -m training.run --dataset adult --resume     # continue after an interruption
  python -m training.run --dataset mnist --arch pixel-cgan --threads 2   # a digit model
  python -m training.run --dataset adult --arch icgan  # "more rows like this one" (IC-GAN)
  python -m training.run --data sales.csv --target region          # your own table (docs/own-table.md)
  python -m training.run --data houses.parquet --target price --arch cgan   # numeric target: ranges
"""
from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

import torch

from explorer.data.readers import InputError
from explorer.data.tables import TABLES, DataUnavailable, load_table
from explorer.data.user_tables import load_file
from explorer.paths import checkpoints_dir
from training.configs import config_for, parse_override
from training.export import export
from training import run_digits
from training.confidence import ConfidenceGAN
from training.gan import TabularGAN
from training.instance import InstanceGAN

ESTIMATORS = {"confgan": ConfidenceGAN, "icgan": InstanceGAN}

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = re.compile(r"[A-Za-z0-9._-]+")  # a leading "-" is the usual form: --suffix=-balanced


class Parser(argparse.ArgumentParser):
    """Errors as one line naming the flag and what it allows (exit code 2), without the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def whole(low: int, high: int | None = None):
    """An argparse type: a whole number from ``low`` (to ``high``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            allowed = f"from {low:,} to {high:,}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"must be a whole number {allowed}, got {text!r}")
        return value
    return parse


def suffix(text: str) -> str:
    """``--suffix`` becomes part of folder and checkpoint names: no path separators or '..'."""
    if text and (not SUFFIX.fullmatch(text) or ".." in text):
        raise argparse.ArgumentTypeError(f"may hold letters, digits, '.', '_' and '-' only (no '/' or '..'), "
                                         f"got {text!r}")
    return text


def main(argv: list[str] | None = None) -> list[Path]:
    argv = sys.argv[1:] if argv is None else argv
    parser = Parser(prog="python -m training.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="all", help=f"one of {', '.join(TABLES)}, all (the tables) or mnist")
    parser.add_argument("--data", type=Path, help="your own table: a .csv, .tsv, .parquet or .arff file "
                        "(replaces --dataset; see docs/own-table.md)")
    parser.add_argument("--target", help="with --data: the column to condition on (categorical, up to 50 classes, "
                        "or numeric: conditioned on ranges); without it only an unconditional GAN is trained")
    parser.add_argument("--name", help="with --data: the model ids' stem (default: the file's stem)")
    parser.add_argument("--schema", type=Path, help="with --data: a TOML or JSON file overriding column types "
                        "(and naming the columns of a file without a header row)")
    parser.add_argument("--split-seed", type=int, default=0, help="with --data: seed of the holdout split")
    parser.add_argument("--ship-real-rows", action="store_true", help="with --data: allow an export that holds "
                        "real rows (an IC-GAN ships embeddings of up to 5,000 training rows)")
    parser.add_argument("--arch", default="all", help="gan, cgan, confgan (judge-confidence input), icgan "
                        "(instance input: rows like a chosen one) or all "
                        "(gan and cgan); for mnist: "
                        "latent-gan, latent-cgan, pixel-cgan, mlp-gan or all")
    parser.add_argument("--seed", type=whole(0, 2**32 - 1), default=0)
    parser.add_argument("--epochs", type=whole(1), help="override the dataset's default epochs (1 or more)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any setting (training/configs.py), e.g. --set loss=bce --set g_hidden=256,256; for mnist "
                        "a digit setting, e.g. --set width=16 (the pixel cGAN's generator channels) or --set "
                        "decoder_width=16 (the latent models' autoencoder decoder)")
    parser.add_argument("--quick", action="store_true", help="tiny 2-epoch models for smoke tests")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--out", type=Path, default=ROOT / "exported", help="where models are exported")
    parser.add_argument("--checkpoints", type=Path, default=checkpoints_dir(),
                        help="checkpoint folder (default: %(default)s)")
    parser.add_argument("--suffix", type=suffix, default="",
                        help="appended to the model id (sweeps, seed runs): letters, digits, '.', '_', '-'")
    parser.add_argument("--no-eval", action="store_true", help="skip the holdout metrics at export")
    parser.add_argument("--threads", type=whole(1, 256), default=1,
                        help="torch CPU threads; fixed so reruns reproduce bit for bit (small nets gain "
                             "little from more, and a second busy process no longer stalls training)")
    args = parser.parse_args(argv)

    command = "python -m training.run " + shlex.join(argv)
    if args.data is None and (args.target or args.name or args.schema):
        parser.error("--target, --name and --schema need --data PATH (your own table)")
    if args.data is not None:
        return _own_table(args, command)
    if args.dataset == "mnist":
        if args.arch != "all" and args.arch not in run_digits.ARCHS:
            parser.error(f"--arch {args.arch!r} is not an MNIST architecture; choose one of "
                         f"{', '.join(run_digits.ARCHS)} or all")
        try:  # every --set checked before anything is trained or written
            run_digits.parse_settings(list(run_digits.ARCHS) if args.arch == "all" else [args.arch], args.set)
        except ValueError as exc:
            parser.error(str(exc))
        try:
            return run_digits.main(args.arch, command, args.out, args.checkpoints, args.seed, args.epochs,
                                   args.quick, args.suffix, args.threads, evaluate=not args.no_eval,
                                   overrides=args.set, resume=args.resume)
        except DataUnavailable as exc:
            parser.error(str(exc))
    datasets = list(TABLES) if args.dataset == "all" else [args.dataset]
    archs = ["gan", "cgan"] if args.arch == "all" else [args.arch]
    unknown = [d for d in datasets if d not in TABLES]
    if unknown:
        parser.error(f"unknown dataset {unknown[0]!r}; choose one of {', '.join(TABLES)} or all")
    try:
        overrides = dict(parse_override(s) for s in args.set)
        if args.epochs:
            overrides["epochs"] = args.epochs
        configs = {(d, a): config_for(d, a, args.seed, args.quick, **overrides) for d in datasets for a in archs}
    except ValueError as exc:
        parser.error(str(exc))
    try:  # a missing or damaged data file is named before anything is trained or written
        tables = {d: load_table(d) for d in datasets}
    except DataUnavailable as exc:
        parser.error(str(exc))
    torch.set_num_threads(args.threads)
    return [_train(tables[dataset], arch, config, args, command) for (dataset, arch), config in configs.items()]


def _train(table, arch: str, config, args, command: str) -> Path:
    """Fit one model of ``table`` (checkpointed, resumable) and export it atomically."""
    model_id = f"{table.name}-{arch}{args.suffix}"
    ckpt = args.checkpoints / f"{model_id}.pt"
    gan = ESTIMATORS.get(arch, TabularGAN)(config)
    if args.quick:  # a quick IC-GAN validates and is judged on 2 instances, not 10 and 50
        gan.validation_instances = 2
    gan.fit(table, checkpoint=ckpt, resume=args.resume)
    path = export(gan, table, model_id, args.out, command, evaluate=not args.no_eval,
                  instances=2 if args.quick else 50, quick=args.quick)
    print(f"exported {path} (best epoch {gan.best_epoch}, {gan.seconds:.0f} s)")
    return path


def _own_table(args, command: str) -> list[Path]:
    """Train and export models of the user's file; bad input exits with code 2 and one line, writing nothing."""
    archs = ["gan", "cgan"] if args.arch == "all" and args.target else ["gan"] if args.arch == "all" else [args.arch]
    try:
        if any(a != "gan" for a in archs) and not args.target:
            raise InputError(f"--arch {args.arch} is conditional and needs --target COLUMN; give the column to "
                             "condition on, or use --arch gan")
        if "icgan" in archs and not args.ship_real_rows:
            raise InputError("--arch icgan exports embeddings of up to 5,000 real training rows beside the model; "
                             "add --ship-real-rows to allow that, or choose another --arch")
        overrides = dict(parse_override(s) for s in args.set)
        if args.epochs:
            overrides["epochs"] = args.epochs
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", args.name or args.data.stem).strip("-.")
        if not name:
            raise InputError(f"--name {args.name!r} has no letters or digits; model ids use A-Z, a-z, 0-9, . _ -")
        table = load_file(args.data, args.target, args.schema, name, seed=args.split_seed)
        configs = {a: config_for(table.name, a, args.seed, args.quick, rows=len(table.train), **overrides)
                   for a in archs}
    except (InputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(table.schema.pretty(f"{args.data.name}"))
    if table.source["dropped_rows"]:
        print(f"{table.source['dropped_rows']:,} rows without a {args.target} value are left out")
    target = f", stratified by {table.range_of or table.target}" if table.target else ""
    print(f"train {len(table.train):,} rows, holdout {len(table.holdout):,} rows (split seed {args.split_seed}{target})")
    if table.range_of:
        print(f"{table.range_of} is numeric: models condition on its ranges {', '.join(table.categories[table.target])}")
    torch.set_num_threads(args.threads)
    return [_train(table, arch, config, args, command) for arch, config in configs.items()]


if __name__ == "__main__":
    main()
