"""The holdout is the latest snapshot dates; folds keep classes balanced and users whole."""

import numpy as np
import pytest

from common.ml.split import sample_rows, stratified_folds, time_split
from tests.support.ml_synthetic import dataset


def test_time_split_holds_out_the_latest_dates():
    d = dataset(users=50, snapshots=5)
    split = time_split(d.time, d.label, 2, seed=1)
    assert d.time[split.train].max() < d.time[split.holdout].min()
    assert split.holdout_dates == ("2026-08-24", "2026-08-31")
    assert len(split.train_dates) == 3 and len(split.train) + len(split.holdout) == d.rows
    with pytest.raises(ValueError, match="cannot hold out"):
        time_split(d.time, d.label, 5, seed=1)


def test_without_dates_the_holdout_is_a_stratified_quarter():
    label = np.array([1] * 40 + [0] * 360)
    split = time_split(None, label, 2, seed=1)
    assert len(split.holdout) == 100 and label[split.holdout].sum() == 10


def test_folds_are_stratified_and_keep_groups_whole():
    d = dataset(users=600, snapshots=4)
    folds = stratified_folds(d.label, 3, seed=2, groups=d.groups)
    for user in range(0, 600, 37):
        assert len(set(folds[d.groups == user])) == 1
    rates = [d.label[folds == k].mean() for k in range(3)]
    assert max(rates) - min(rates) < 0.03
    plain = stratified_folds(d.label, 3, seed=2)
    assert [int(d.label[plain == k].sum()) for k in range(3)] == pytest.approx(
        [d.label.sum() / 3] * 3, abs=1
    )


def test_samples_are_seeded_and_bounded():
    assert sample_rows(10, None, 1).tolist() == list(range(10))
    assert sample_rows(10, 20, 1).tolist() == list(range(10))
    sample = sample_rows(1000, 50, 1)
    assert len(set(sample.tolist())) == 50 and (np.diff(sample) > 0).all()
    assert (sample_rows(1000, 50, 1) == sample).all()
