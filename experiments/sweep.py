"""Hyperparameter sweeps on Ray Tune: ``python -m experiments.sweep``.

Examples:
  python -m experiments.sweep                                  # R1's grid on diabetes, local Ray, all cores
  nice -n 15 python -m experiments.sweep --dataset diabetes --epochs 100
  python -m experiments.sweep --space ours                     # our own search space
  python -m experiments.sweep --quick --out /tmp/sweep.csv     # 4 tiny trials in seconds (CI)
  python -m experiments.sweep --address HEAD:6379 --storage /nfs/tune   # a Ray cluster
  python -m experiments.sweep --resume                         # run only the trials the CSV lacks
  python -m experiments.sweep --table                          # the CSV's seed table as Markdown (no run)

Spaces (every other setting is the dataset's default from training/configs.py, i.e. the
committed models' recipe; seeds 1234, 42, 57 for every configuration, R1's):
  r1    R1's grid: hidden 128/256 (G and D both (h, h)) x batch 32/64 x lr 2e-4/5e-4 (G = D)
        x adam/rmsprop, for gan and cgan: 16 configurations x 3 seeds x 2 archs = 96 trials
  ours  what our recipe adds, switched on and off: loss wgan-gp/hinge x marginal-matching loss
        weight 0/1 x PacGAN 1/4, for gan and cgan: 8 x 3 x 2 = 48 trials

Each trial is one Ray Tune trial (1 CPU, torch 1 thread) that trains training.gan.TabularGAN
and measures the card's holdout metrics (efficacy, RF/LR detection, KS/TV) with the same
functions as the export (explorer/diagnostics.py, as in explorer/report.evaluate_tabular) on
rows drawn exactly as Model.sample draws them, without exporting anything. Rows are appended
to the CSV as trials finish (so ``--resume`` can finish an interrupted sweep); at the end the
CSV is rewritten in grid order and ``<out>-seeds.csv`` holds the mean and std over the seeds of
every configuration (explorer/sweeps.py), which the app's Training page shows.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import shlex
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.metrics import diagnostics as dg
from explorer.data.tables import DATA_ENV, TABLES, data_dir, load_table
from explorer.runtime.models import label_counts
from explorer.metrics.sweeps import METRICS, pretty_summary, read_sweep, seed_summary

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (1234, 42, 57)
SPACES = {
    "r1": {"arch": ["gan", "cgan"], "hidden": [128, 256], "batch_size": [32, 64], "lr": [2e-4, 5e-4],
           "optimizer": ["adam", "rmsprop"]},
    "ours": {"arch": ["gan", "cgan"], "loss": ["wgan-gp", "hinge"], "marginal_weight": [0.0, 1.0], "pac": [1, 4]},
}
QUICK_SEEDS = SEEDS[:2]
LABELS = {"arch": "{}", "hidden": "h{}", "batch_size": "b{}", "lr": "lr {:g}", "optimizer": "{}", "loss": "{}",
          "marginal_weight": "marginal {:g}", "pac": "pac {}"}


STARVATION_TOLERANCE = {"RAY_health_check_period_ms": "10000", "RAY_health_check_timeout_ms": "30000",
                        "RAY_health_check_failure_threshold": "60", "RAY_gcs_rpc_server_reconnect_timeout_s": "1800"}


class SweepError(RuntimeError):
    """A sweep cannot start (bad options, unreachable cluster)."""


# ------------------------------------------------------------------ the grid
def grid(space: str, quick: bool = False) -> list[dict]:
    """Every trial of a space, in a fixed order: {arch, label, seed, overrides (tables' settings)}.
    ``quick``: each arch with the space's first value on every axis, tiny default nets, two seeds."""
    axes = dict(SPACES[space])
    if quick:
        axes = {k: (v if k == "arch" else v[:1]) for k, v in axes.items() if k != "hidden"}
    extra = {"eval_every": 1000} if quick else {}  # quick: model selection only at the last epoch
    points = []
    for values in itertools.product(*axes.values()):
        point = dict(zip(axes, values))
        label = " ".join(LABELS[k].format(v) for k, v in point.items())
        overrides = dict(extra)
        for key, value in point.items():
            if key == "hidden":
                overrides["g_hidden"] = overrides["d_hidden"] = (value, value)
            elif key == "lr":
                overrides["lr_g"] = overrides["lr_d"] = value
            elif key != "arch":
                overrides[key] = value
        for seed in (QUICK_SEEDS if quick else SEEDS):
            points.append({"arch": point["arch"], "label": label, "seed": seed, "overrides": overrides})
    return points


def trial_key(row: dict) -> str:
    return f"{row['label']}|{row['seed']}"


# ------------------------------------------------------------------ one trial
def holdout_metrics(gan, table, seed: int = 0, max_rows: int = 10_000) -> dict:
    """The card's headline metrics (explorer/report.evaluate_tabular) of a trained TabularGAN:
    as many rows as the training split, the noise and exact class mix Model.sample(n, seed)
    draws, judged against the holdout by the same explorer/diagnostics.py calls."""
    train, holdout = (gan.transformer_.clean(df) for df in (table.train, table.holdout))
    n = len(table.train)
    labels = None
    if gan.config.conditional:
        share = table.train[table.target].value_counts(normalize=True)
        counts = label_counts(n, {k: float(share.get(k, 0)) for k in gan.classes_}, gan.classes_)
        codes = np.repeat(np.arange(len(gan.classes_), dtype=np.int64), list(counts.values()))
        labels = np.array(gan.classes_, dtype=object)[np.random.default_rng([seed, 1]).permutation(codes)]
    synth = gan.sample(n, seed=seed, labels=labels)
    numeric = table.numeric
    eff = dg.efficacy(train, synth, holdout, table.target, numeric, seed=seed)
    return {"efficacy_ratio": eff["ratio"], "real_auc": eff["real_auc"], "synthetic_auc": eff["synthetic_auc"],
            "detection_rf_auc": dg.detection(holdout, synth, numeric, "rf", max_rows=max_rows, seed=seed)["auc"],
            "detection_lr_auc": dg.detection(holdout, synth, numeric, "lr", max_rows=max_rows, seed=seed)["auc"],
            "mean_ks_tv_complement": float(dg.fidelity(holdout, synth, numeric)["complement"].mean())}


def train_and_measure(trial: dict) -> dict:
    """One trial, in whatever process runs it: train, measure, return the CSV row."""
    import torch

    from training.configs import TABLES, config_for
    from training.gan import TabularGAN

    start = time.perf_counter()
    cpus = int(trial.get("cpus", 1))
    torch.set_num_threads(cpus)
    os.environ["LOKY_MAX_CPU_COUNT"] = str(cpus)  # the metrics' forests (n_jobs=-1) stay on the trial's CPUs
    if trial.get("data"):
        os.environ[DATA_ENV] = trial["data"]  # absolute: Tune runs trials in their own folders
    table = load_table(trial["dataset"])
    overrides = dict(trial["overrides"], **({"epochs": trial["epochs"]} if trial.get("epochs") else {}))
    config = config_for(trial["dataset"], trial["arch"], trial["seed"], trial.get("quick", False), **overrides)
    gan = TabularGAN(config).fit(table, progress=False)
    trained = time.perf_counter()
    metrics = holdout_metrics(gan, table)
    fields = {k: (",".join(map(str, v)) if isinstance(v, tuple) else v) for k, v in config.record(TABLES).items()}
    return {"dataset": trial["dataset"], "space": trial["space"], "arch": trial["arch"], "label": trial["label"],
            **fields, **metrics, "best_epoch": gan.best_epoch, "epochs_run": gan.epoch,
            "train_seconds": round(gan.seconds, 2), "eval_seconds": round(time.perf_counter() - trained, 2),
            "seconds": round(time.perf_counter() - start, 2), "node": socket.gethostname()}


def tune_trial(config: dict) -> None:
    """The Ray Tune function trainable: one report at the end, the whole row as JSON."""
    from ray import tune

    row = train_and_measure(config["trial"])
    tune.report({"row": json.dumps(row), **{k: row[k] for k in METRICS}, "trial_seconds": row["seconds"]})


# ------------------------------------------------------------------ Ray
def connect(address: str | None, num_cpus: int | None) -> bool:
    """Start a quiet local Ray (or join a cluster) unless one is running; True when we own it."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address:
        host, _, port = address.removeprefix("ray://").rpartition(":")
        if host and port.isdigit():  # ray.init waits long on an address nobody listens at
            try:
                socket.create_connection((host, int(port)), timeout=10).close()
            except OSError as exc:
                raise SweepError(f"cannot reach the Ray cluster at {address}: {exc}") from None
        ray.init(address=address, runtime_env={"py_modules": [str(ROOT / "explorer"), str(ROOT / "training")]},
                 logging_level=logging.ERROR, log_to_driver=False)
    else:  # local: workers import this checkout; no dashboard; worker logs stay out of the terminal
        # Ray's own processes run at the sweep's low priority: on a machine busy with other jobs its
        # control plane can stall for a minute, which by default declares the node dead and ends the sweep.
        for key, value in STARVATION_TOLERANCE.items():
            os.environ.setdefault(key, value)
        paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT)] + [p for p in paths if p != str(ROOT)]))
        ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, object_store_memory=200 * 2**20,
                 logging_level=logging.ERROR, log_to_driver=False)
    return True


def run_tune(trials: list[dict], on_row, storage: str | None, name: str) -> list[str]:
    """The trials as one Tune experiment on the connected Ray; ``on_row`` gets each finished
    trial's row in the driver. Returns the errors of trials that failed."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no tables or banners on the terminal
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # the CSV is ours; no TensorBoard files
    from ray import tune

    from experiments import sweep as this  # by module name, also under `python -m`: workers import it

    class Rows(tune.Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            if "row" in result:
                on_row(json.loads(result["row"]))

    tuner = tune.Tuner(
        tune.with_resources(this.tune_trial, {"cpu": 1}),
        param_space={"trial": tune.grid_search(trials)},
        tune_config=tune.TuneConfig(reuse_actors=True),
        run_config=tune.RunConfig(name=name, storage_path=storage, verbose=0, callbacks=[Rows()],
                                  failure_config=tune.FailureConfig(max_failures=0)),
    )
    results = tuner.fit()
    return [f"{r.config['trial']['label']} seed {r.config['trial']['seed']}: "
            f"{str(r.error).strip().splitlines()[-1]}" for r in results if r.error]


# ------------------------------------------------------------------ the CLI
def write_tables(trials: pd.DataFrame, out: Path) -> None:
    """The trial CSV and its seed table, each replaced atomically (a killed sweep leaves whole files)."""
    tables = [(trials, out)]
    if len(trials):
        tables.append((seed_summary(trials).round(4), out.with_name(out.stem + "-seeds.csv")))
    for frame, path in tables:
        tmp = path.with_name(f".{path.name}.tmp")
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)


def command_line(argv: list[str]) -> str:
    nice = os.nice(0) if hasattr(os, "nice") else 0
    return (f"nice -n {nice} " if nice else "") + "python -m experiments.sweep " + shlex.join(argv)


def sweep(dataset: str = "diabetes", space: str = "r1", epochs: int | None = None, quick: bool = False,
          out: Path | None = None, address: str | None = None, num_cpus: int | None = None,
          storage: str | None = None, resume: bool = False, command: str = "", progress: bool = True) -> pd.DataFrame:
    """Run a sweep and write ``out`` (trials) and ``<out>-seeds.csv``; returns the trial table."""
    from training.export import code_version

    if dataset not in TABLES:
        raise SweepError(f"unknown dataset {dataset!r}; choose one of {', '.join(TABLES)}")
    if space not in SPACES:
        raise SweepError(f"unknown space {space!r}; choose one of {', '.join(SPACES)}")
    if epochs is not None and epochs < 1:
        raise SweepError("--epochs must be a whole number ≥ 1")
    if num_cpus is not None and (address or num_cpus < 1):
        raise SweepError("--num-cpus sizes the local Ray: a whole number ≥ 1, without --address")
    out = Path(out or ROOT / "results" / f"sweep-{dataset}-{space}.csv")
    data = str(data_dir().resolve())
    common = {"dataset": dataset, "space": space, "epochs": epochs, "quick": quick, "data": data, "cpus": 1}
    trials = [dict(common, **t) for t in grid(space, quick)]
    order = {trial_key(t): i for i, t in enumerate(trials)}
    done = pd.DataFrame()
    if resume and out.is_file():
        try:
            done = pd.read_csv(out)
        except pd.errors.EmptyDataError:  # killed before its first trial ended
            pass
    if len(done):
        done = done[[trial_key(r) in order for r in done.to_dict("records")]]
    have = {trial_key(r) for r in done.to_dict("records")}
    todo = [t for t in trials if trial_key(t) not in have]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_tables(done, out)
    extra = {"command": command, "code_version": code_version()}
    rows = done.to_dict("records")

    def on_row(row: dict) -> None:
        rows.append({**row, **extra})
        write_tables(pd.DataFrame(rows), out)  # after every trial: an interrupted sweep keeps its rows
        if progress:
            print(f"[{len(rows)}/{len(trials)}] {row['label']} seed {row['seed']}: efficacy "
                  f"{row['efficacy_ratio']:.3f}, RF {row['detection_rf_auc']:.3f}, LR {row['detection_lr_auc']:.3f}, "
                  f"KS/TV {row['mean_ks_tv_complement']:.3f}, {row['seconds']:.0f} s", flush=True)

    errors = []
    if todo:
        if progress:
            print(f"{len(todo)} of {len(trials)} trials to run ({space} space, {dataset}) → {out}", flush=True)
        import ray

        owned = connect(address, num_cpus)
        scratch = None if storage else tempfile.mkdtemp(prefix="gan-sweep-")
        try:
            errors = run_tune(todo, on_row, storage or scratch, f"sweep-{dataset}-{space}")
        finally:
            if owned:
                ray.shutdown()
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
    table = pd.DataFrame(rows)
    if len(table):
        position = [order[trial_key(r)] for r in table.to_dict("records")]
        table = table.iloc[np.argsort(position, kind="stable")].reset_index(drop=True)
        write_tables(table, out)
    if errors:
        raise SweepError(f"{len(errors)} trial(s) failed (rerun with --resume to retry them):\n  " + "\n  ".join(errors))
    return table


def main(argv: list[str] | None = None) -> pd.DataFrame:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m experiments.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="diabetes", help=f"one of {', '.join(TABLES)} (default diabetes)")
    parser.add_argument("--space", default="r1", choices=sorted(SPACES), help="search space (default r1)")
    parser.add_argument("--epochs", type=int, help="override the dataset's default epochs")
    parser.add_argument("--quick", action="store_true",
                        help="4 trials (gan, cgan x 2 seeds), 2 epochs, tiny nets; written to a temporary folder "
                             "unless --out")
    parser.add_argument("--out", type=Path, help="trial CSV (default results/sweep-<dataset>-<space>.csv)")
    parser.add_argument("--resume", action="store_true", help="keep the CSV's rows, run only the missing trials")
    parser.add_argument("--address", help="the Ray cluster to join (default: start a local Ray)")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the local Ray (default: this machine's cores)")
    parser.add_argument("--storage", help="Tune's storage_path (default: a temporary folder, removed after; "
                        "on a cluster give a path every node shares)")
    parser.add_argument("--table", action="store_true",
                        help="print the seed-stability table of the existing CSV as Markdown and exit")
    args = parser.parse_args(argv)
    out = args.out
    if args.table:
        trials = read_sweep(out or ROOT / "results" / f"sweep-{args.dataset}-{args.space}.csv")
        print(pretty_summary(seed_summary(trials)).to_markdown(index=False))
        return trials
    if args.quick and out is None:
        out = Path(tempfile.mkdtemp(prefix="gan-sweep-quick-")) / f"sweep-{args.dataset}-{args.space}.csv"
    try:
        table = sweep(args.dataset, args.space, args.epochs, args.quick, out, args.address, args.num_cpus,
                      args.storage, args.resume, command_line(argv))
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if len(table):
        print(pretty_summary(seed_summary(table)).to_string(index=False))
        path = out or ROOT / "results" / f"sweep-{args.dataset}-{args.space}.csv"
        print(f"wrote {path} and {path.with_name(path.stem + '-seeds.csv')}")
    return table


if __name__ == "__main__":
    main()
