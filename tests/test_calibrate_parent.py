"""Calibration by parent (training/calibrate.py ``by_parent``): each numeric column's tables per class and per
level of its most associated categorical, the same in ONNX as in torch; and calibration of columns with gaps."""
import dataclasses
import types

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import ks_2samp

from training.calibrate import MIN_REAL, _category_tree, fit_calibration
from training.configs import config_for
from training.gan import TabularGAN
from training.nets import Generator
from training.transforms import TableTransformer


@pytest.fixture(scope="module")
def credit_g():
    from explorer.data.tables import load_table
    return load_table("credit-g")


@pytest.fixture(scope="module")
def by_parent(credit_g):
    config = config_for("credit-g", "cgan", epochs=4, eval_every=4, g_hidden=(64, 64), d_hidden=(64, 64),
                        calibrate=True, calibrate_parent=True)
    return TabularGAN(config).fit(credit_g, progress=False)


def _worst_group_ks(gan, table, parents, n=40_000):
    """Worst KS between synthetic and real values of a numeric column within one (class, parent level) group
    with enough rows to have its own table, over every such group."""
    worst = 0.0
    for cls in gan.classes_:
        synth = gan.sample(n, seed=3, labels=[cls] * n)
        real = table.train[table.train[table.target] == cls]
        for j, p in enumerate(parents):
            column, parent = gan.transformer_.numeric_[j].name, gan.transformer_.categorical_[p].name
            for level, group in real.groupby(parent, observed=True):
                drawn = synth[synth[parent] == level]
                if len(group) >= MIN_REAL and len(drawn) >= 2000:
                    worst = max(worst, ks_2samp(drawn[column], group[column]).statistic)
    return worst


def test_the_tree_joins_the_pairs_the_generator_gets_most_wrong():
    rng = np.random.default_rng(0)
    real = [rng.integers(0, 3, 5000) for _ in range(4)]
    drawn = [r.copy() for r in real]
    drawn[3] = np.where(real[1] == 0, 2, real[3])  # columns 1 and 3 together are wrong, each alone less so
    drawn[2] = rng.permutation(real[2])  # column 2's link with 0 is lost
    real[2] = np.where(rng.random(5000) < 0.7, real[0], real[2])
    draw = types.SimpleNamespace(real_codes=real, codes=drawn, sizes=[3, 3, 3, 3])
    parents = _category_tree([draw], np.array([1.0]), 4)
    edges = {frozenset((c, p)) for c, p in enumerate(parents) if p >= 0}
    assert len(edges) == 3 and {frozenset((1, 3)), frozenset((0, 2))} <= edges


def _joint_gap(gan, table, n=40_000):
    """Class-weighted total variation between synthetic and real joint shares, summed over the tree's pairs."""
    cats = [c.name for c in gan.transformer_.categorical_]
    pairs = [(cats[c], cats[p]) for c, p in enumerate(gan.calibration_.category_parents) if p >= 0]
    total = 0.0
    for cls in gan.classes_:
        synth = gan.sample(n, seed=4, labels=[cls] * n)
        real = table.train[table.train[table.target] == cls]
        share = len(real) / len(table.train)
        for a, b in pairs:
            diff = synth.groupby([a, b], observed=True).size().div(n).sub(
                real.groupby([a, b], observed=True).size().div(len(real)), fill_value=0)
            total += share * 0.5 * diff.abs().sum()
    return total


@pytest.mark.slow  # the quick credit-g cGAN calibrated by pairs: about 40 s
def test_each_parent_level_gets_its_real_numeric_values(by_parent, credit_g):
    parents = by_parent.calibration_.parents
    assert sum(p >= 0 for p in parents) == len(credit_g.numeric)
    worst = _worst_group_ks(by_parent, credit_g, parents)
    assert worst < 0.08
    # the same generator calibrated per class only leaves the groups visibly off
    saved = by_parent.calibration_
    by_parent.calibration_ = fit_calibration(by_parent.generator, by_parent.transformer_, credit_g,
                                             by_parent.classes_, by_parent.config.latent_dim, seed=0)
    try:
        assert _worst_group_ks(by_parent, credit_g, parents) > 2 * worst
    finally:
        by_parent.calibration_ = saved


@pytest.mark.slow  # the quick credit-g cGAN calibrated by pairs: about 40 s
def test_each_child_category_gets_its_real_shares_within_its_parent(by_parent, credit_g):
    assert sum(p >= 0 for p in by_parent.calibration_.category_parents) == len(by_parent.transformer_.categorical_) - 1
    gap = _joint_gap(by_parent, credit_g)
    saved = by_parent.calibration_
    class_only = fit_calibration(by_parent.generator, by_parent.transformer_, credit_g, by_parent.classes_,
                                 by_parent.config.latent_dim, seed=0)
    by_parent.calibration_ = dataclasses.replace(class_only, category_parents=saved.category_parents)
    try:
        assert _joint_gap(by_parent, credit_g) > 1.5 * gap
    finally:
        by_parent.calibration_ = saved


def test_a_column_with_gaps_calibrates_to_its_present_values():
    """np.quantile over a column with NaN cells gave NaN everywhere: every value of that column decoded as missing."""
    rng = np.random.default_rng(0)
    n = 2000
    real = pd.DataFrame({"x": np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n)),
                                           "y": rng.normal(size=n), "kind": rng.choice(["u", "v"], n)})
    tf = TableTransformer().fit(real, ["x", "y"], ["kind"])
    torch.manual_seed(0)
    generator = Generator(8, 0, tf.dim, (16,)).eval()
    for parent in (False, True):
        cal = fit_calibration(generator, tf, types.SimpleNamespace(train=real, target=None), [], 8, rows=20_000,
                              by_parent=parent)
        assert not np.isnan(cal.tables).any()
        with torch.no_grad():
            numeric, _ = tf.decoder(cal)(generator(torch.randn(5000, 8)))
        present = numeric[:, 0][~torch.isnan(numeric[:, 0])]
        assert len(present) > 1000 and abs(float(present.mean()) - np.nanmean(real["x"])) < 0.2


def test_a_table_without_categoricals_calibrates_per_class_only(diabetes):
    config = config_for("diabetes", "cgan", epochs=2, eval_every=2, g_hidden=(32,), d_hidden=(32,),
                        calibrate=True, calibrate_parent=True)
    gan = TabularGAN(config).fit(diabetes, progress=False)
    assert gan.calibration_.parents == [-1] * len(gan.transformer_.numeric_) and not gan.calibration_.by_parent
    assert not gan.decoder().by_parent


@pytest.mark.slow  # ONNX export
def test_exported_graph_and_its_torch_rebuild_decode_like_the_model(by_parent, credit_g, tmp_path):
    from explorer.runtime.models import Model
    from training.export import export
    from training.twin import torch_twin
    folder = export(by_parent, credit_g, "credit-g-cgan-parent", tmp_path, "test", evaluate=False)
    model = Model.from_folder(folder)
    assert "most wrong" in model.card.preprocessing.calibration
    cats = {c.name for c in by_parent.transformer_.categorical_}
    parents = model.card.preprocessing.calibration_parents
    assert set(credit_g.numeric) <= set(parents) and set(parents.values()) <= cats
    labels = model.labels(3000, seed=2)
    z = model.noise(3000, seed=2)
    onnx_rows = model.generate(z, labels)
    torch_rows = by_parent.sample(3000, seed=2, labels=labels)[onnx_rows.columns]
    categorical = [c for c in onnx_rows.columns if c not in credit_g.numeric]
    assert (onnx_rows[categorical].to_numpy() == torch_rows[categorical].to_numpy()).mean() > 0.999
    unit = np.array([10.0 ** -model.card.column(c).decimals for c in credit_g.numeric])
    diff = np.abs(onnx_rows[credit_g.numeric].to_numpy(float) - torch_rows[credit_g.numeric].to_numpy(float))
    assert (diff <= unit + 1e-6).mean() > 0.999
    twin = torch_twin(folder, model.card, credit_g)  # the parents are recomputed from the training rows
    label = torch.from_numpy(np.eye(len(model.classes), dtype=np.float32)[model.label_codes(3000, seed=2)])
    with torch.no_grad():
        _, codes = twin(torch.from_numpy(z), label)
    assert (codes.numpy() == model.decode(z, model.label_codes(3000, seed=2))[1]).mean() > 0.999


@pytest.mark.slow  # a quick export and four protocol scorings
def test_the_pair_calibration_experiment_scores_each_half(tmp_path, credit_g):
    from experiments.pair_calibration import main
    from training.run import main as train
    train(["--dataset", "credit-g", "--arch", "cgan", "--quick", "--out", str(tmp_path), "--checkpoints",
           str(tmp_path / "ckpt"), "--no-eval"])
    result = main(["--model", "credit-g-cgan", "--root", str(tmp_path)])
    assert list(result) == ["per class", "numeric tables by parent only", "category tree only", "both (pairs)"]
    # a 2-epoch generator: the category tree fixes its pairs, and both halves make it much harder to detect
    assert result["category tree only"]["trend"] > result["per class"]["trend"] + 0.005
    assert result["both (pairs)"]["xgboost"] < result["per class"]["xgboost"] - 0.03


def test_a_many_level_categorical_does_not_blow_up_the_numeric_tables():
    """Every level of a parent is a 10,000-level table per class: a 300-level parent would be 24 MB per column."""
    from training.calibrate import MAX_GROUPS
    rng = np.random.default_rng(0)
    n = 6000
    frame = pd.DataFrame({"code": rng.integers(0, 300, n).astype(str), "kind": rng.choice(["u", "v", "w"], n)})
    frame["x"] = frame["code"].astype(int) + rng.normal(size=n)  # follows the 300-level column
    frame["y"] = frame["kind"].map({"u": 0.0, "v": 3.0, "w": 6.0}) + rng.normal(size=n)  # follows the 3-level one
    tf = TableTransformer().fit(frame, ["x", "y"], ["code", "kind"])
    torch.manual_seed(0)
    generator = Generator(8, 0, tf.dim, (16,)).eval()
    cal = fit_calibration(generator, tf, types.SimpleNamespace(train=frame, target=None), [], 8, rows=20_000,
                          by_parent=True)
    assert cal.parents == [1, 1]  # x's own parent would need 299 more tables: it takes the worst one that fits
    assert sum(g.shape[0] * g.shape[1] for g in cal.groups()) <= 2 + MAX_GROUPS


def test_a_rare_parent_level_gets_its_childs_shares():
    """A parent level with too few real rows for a bias of its own kept the class's bias, so its rows drew the
    child as every other row did (Adult: rare countries' race). Its real shares, pooled with the level's rows in
    every class, now set the bias."""
    rng = np.random.default_rng(0)
    n = 3000
    parent = np.where(rng.random(n) < 0.01, "rare", "common")  # about 30 real rows
    child = np.where(parent == "rare", np.where(rng.random(n) < 0.9, "x", "y"), np.where(rng.random(n) < 0.1, "x", "y"))
    real = pd.DataFrame({"v": rng.normal(size=n), "parent": parent, "child": child})
    tf = TableTransformer().fit(real, ["v"], ["parent", "child"])
    torch.manual_seed(0)
    generator = Generator(8, 0, tf.dim, (16,)).eval()
    cal = fit_calibration(generator, tf, types.SimpleNamespace(train=real, target=None), [], 8, by_parent=True)
    assert cal.category_parents == [-1, 0]
    with torch.no_grad():
        _, codes = tf.decoder(cal)(generator(torch.randn(200_000, 8)))
    p_levels, c_levels = (list(tf.categorical_[j].categories) for j in (0, 1))
    rare = codes[:, 0] == p_levels.index("rare")
    drawn_x = float((codes[rare, 1] == c_levels.index("x")).float().mean())
    real_x = float((real.child[real.parent == "rare"] == "x").mean())
    assert rare.sum() > 1000 and abs(drawn_x - real_x) < 0.1, (drawn_x, real_x)
