"""Instance-conditioned generator (IC-GAN): the instance space, export per the contract, locality, bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.runtime.instance_space import embed, instance_dim, instance_space
from explorer.metrics.instances import distances, locality, neighbours
from explorer.runtime.models import DEFAULT_ROOT, Model, discover
from explorer.metrics.report import evaluate_instance

COMMITTED = [m for m, c in discover(DEFAULT_ROOT)[0].items() if c.condition_type == "instance"]


@pytest.fixture(scope="module")
def icgan(tmp_path_factory):
    """A quick diabetes IC-GAN, trained and exported through the real CLI."""
    from training.run import main
    out = tmp_path_factory.mktemp("exported")
    main(["--dataset", "diabetes", "--arch", "icgan", "--quick", "--no-eval", "--out", str(out),
          "--checkpoints", str(tmp_path_factory.mktemp("ckpt"))])
    return Model.load("diabetes-icgan", out)


def test_space_scales_numerics_to_unit_range_and_one_hots_categories(diabetes):
    space = instance_space(diabetes.train, diabetes.numeric, diabetes.categories)
    e = embed(space, diabetes.train)
    assert e.shape == (len(diabetes.train), instance_dim(space)) == (len(diabetes.train), 8 + 2)
    assert e[:, :8].min() == 0 and e[:, :8].max() == 1
    assert (e[:, 8:].sum(1) == 1).all()
    # a row differing from another in the class only is √2 away
    a = diabetes.train.iloc[[0]]
    b = a.assign(**{"class": "tested_positive" if a["class"].iloc[0] == "tested_negative" else "tested_negative"})
    assert distances(space, a, b)[0] == pytest.approx(np.sqrt(2))


def test_each_point_is_its_own_first_neighbour(diabetes):
    e = embed(instance_space(diabetes.train, diabetes.numeric, diabetes.categories), diabetes.train.drop_duplicates())
    assert (neighbours(e, 5)[:, 0] == np.arange(len(e))).all()


@pytest.mark.slow
@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="age"), "missing"),
    (lambda f: f.assign(age=np.nan), "finite"),
    (lambda f: f.assign(**{"class": "maybe"}), "maybe"),
])
def test_bad_instances_are_refused_clearly(icgan, diabetes, change, message):
    with pytest.raises(ValueError, match=message):
        icgan.sample(5, seed=0, instance=change(diabetes.holdout.iloc[[0]]))


@pytest.mark.slow
def test_generator_takes_noise_and_an_instance(icgan, diabetes):
    inputs = {i.name: i.shape for i in icgan.sessions["generator"].get_inputs()}
    assert list(inputs) == ["z", "instance"] and inputs["instance"][1] == icgan.condition.dim == 10
    assert icgan.condition.type == "instance" and icgan.condition.k == 20
    assert icgan.instance_bank.shape[1] == 10 and len(icgan.instance_bank) == len(diabetes.train)  # < BANK rows
    with pytest.raises(ValueError, match="instance"):
        icgan.decode(icgan.noise(3, 0), instance=np.zeros((3, 9), np.float32))


@pytest.mark.slow
def test_sampling_is_seeded_and_follows_the_instance_input(icgan, diabetes):
    row, other = diabetes.holdout.iloc[[0]], diabetes.holdout.iloc[[1]]
    a = icgan.sample(40, seed=3, instance=row)
    assert a.equals(icgan.sample(40, seed=3, instance=row))
    assert not a.equals(icgan.sample(40, seed=3, instance=other))
    per_row = icgan.sample(2, seed=3, instance=pd.concat([row, other]))  # one instance per row
    assert len(per_row) == 2 and list(per_row.columns) == list(diabetes.train.columns)
    mixture = icgan.sample(40, seed=3)  # no instance: drawn from the shipped bank
    assert len(mixture) == 40 and mixture.equals(icgan.sample(40, seed=3))
    scores = icgan.discriminate(mixture)
    assert scores.shape == (40,) and np.isfinite(scores).all()
    with pytest.raises(ValueError, match="1 or 40 rows"):
        icgan.sample(40, seed=3, instance=diabetes.holdout.iloc[:3])


def test_locality_separates_near_from_far_rows(diabetes):
    space = instance_space(diabetes.train, diabetes.numeric, diabetes.categories)
    e = embed(space, diabetes.train)
    instance = diabetes.train.iloc[[0]]
    near = diabetes.train.iloc[neighbours(e, 40, e[:1])[0]]
    far = diabetes.train.iloc[np.argsort(-np.linalg.norm(e - e[0], axis=1))[:40]]
    m_near = locality(space, instance, near.iloc[20:], near.iloc[:20], diabetes.holdout, diabetes.numeric)
    m_far = locality(space, instance, far, near.iloc[:40], diabetes.holdout, diabetes.numeric)
    assert m_near["distance_ratio"] < 0.5 < m_far["distance_ratio"]
    assert m_far["detection_auc"] > 0.9


@pytest.mark.slow
def test_evaluate_instance_reports_both_splits(icgan, diabetes):
    m = evaluate_instance(icgan, diabetes, instances=3, rows=30)
    assert {"train_instances_train_neighbourhood", "holdout_instances_train_neighbourhood",
            "holdout_instances_holdout_neighbourhood"} <= set(m)
    for key in ("train_instances_train_neighbourhood", "holdout_instances_holdout_neighbourhood"):
        assert 0 <= m[key]["mean_detection_auc"] <= 1 and m[key]["median_distance_ratio"] > 0
    assert 0 <= m["exact_copy_rate"] <= 1


@pytest.mark.skipif(not COMMITTED, reason="no instance-conditioned model committed")
def test_committed_model_makes_rows_like_unseen_holdout_rows(adult):
    model = Model.load(COMMITTED[0])
    space = model.condition.space
    reference = adult.holdout.sample(500, random_state=0)
    ratios = []
    for i in (0, 1, 2, 3, 4):
        instance = adult.holdout.iloc[[i]]
        generated = model.sample(100, seed=i, instance=instance)
        ratios.append(np.median(distances(space, instance, generated)) / np.median(distances(space, instance, reference)))
    assert np.median(ratios) <= 0.5
