"""CTGAN's sample() speed on Adult; run with the Python of a separate virtualenv holding ctgan
(it pins pandas < 3, so it never joins the product's requirements). Sampling speed does not
depend on how long the model trained, so one epoch of fitting is enough here.

    /path/to/ctgan-venv/bin/python -m experiments.ctgan_sample --rows 1000000
"""
import argparse
import json
import os
import time
from pathlib import Path

import pandas as pd
import torch
from ctgan import CTGAN

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
           "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]

p = argparse.ArgumentParser()
p.add_argument("--rows", type=int, default=1_000_000)
args = p.parse_args()
torch.set_num_threads(os.cpu_count())
data = pd.read_csv(Path(os.environ.get("GAN_EXPLORER_DATA", "data")) / "adult.data", header=None, names=COLUMNS,
                   skipinitialspace=True)
discrete = [c for c in COLUMNS if data[c].dtype == object]
model = CTGAN(epochs=1, verbose=False)
model.fit(data, discrete)
model.sample(1000)
start = time.perf_counter()
model.sample(args.rows)
seconds = time.perf_counter() - start
print(json.dumps({"rows": args.rows, "seconds": seconds, "rows_per_s": args.rows / seconds}))
