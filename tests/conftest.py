"""Shared fixtures: real data from GAN_EXPLORER_DATA and tiny models trained once per run."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GAN_EXPLORER_DATA", str(ROOT.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests train at the training CLI's default of one torch thread, whichever test ran before. Two
    OpenMP threads on a shared machine spin-wait for each other: a small fit took 30x the CPU."""
    torch = sys.modules.get("torch")  # imported by the test modules that use it; never imported here
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def diabetes():
    from explorer.data.tables import load_table
    return load_table("diabetes")


@pytest.fixture(scope="session")
def adult():
    from explorer.data.tables import load_table
    return load_table("adult")


@pytest.fixture(scope="session")
def quick_models(tmp_path_factory):
    """Quick diabetes GAN and cGAN, trained and exported through the real CLI into a temp folder."""
    from training.run import main
    out = tmp_path_factory.mktemp("exported")
    ckpt = tmp_path_factory.mktemp("checkpoints")
    main(["--dataset", "diabetes", "--quick", "--out", str(out), "--checkpoints", str(ckpt)])
    return out


@pytest.fixture(scope="session")
def committed_diabetes(tmp_path_factory):
    """Copies of the committed diabetes GAN and cGAN in a folder of their own: the fast lane's stand-in for
    ``quick_models`` where a test needs two real exported models, not the training run behind them."""
    source = ROOT / "exported"
    if not (source / "diabetes-cgan" / "card.json").is_file():
        pytest.skip("the committed diabetes models are missing from exported/")
    out = tmp_path_factory.mktemp("committed")
    for name in ("diabetes-gan", "diabetes-cgan"):
        shutil.copytree(source / name, out / name)
    return out
