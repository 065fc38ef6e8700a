"""The training sample drawn in the warehouse: exactly the rows an independent computation in
Python picks (SHA-256 keys, each label's share of the cap), in any storage order; off below the
caps; the holdout capped apart; recorded in the model card; the BigQuery rendering parses."""

import hashlib
from datetime import date

import numpy as np
import pytest
import sqlglot

from common.artifacts.local import LocalArtifactStore
from common.ml.data import Dataset, load_features
from common.ml.registry import Registry
from common.ml.sampling import Caps, plan, sampled_sql
from common.ml.training_run import train_run
from tests.support.ml_synthetic import SETTINGS, SPEC, dataset, stored

USERS, SNAPSHOTS = 2_000, 5  # 10,000 rows: 8,000 before the held-out last snapshot, 2,000 in it
HOLDOUT_START = np.datetime64("2026-08-31")
BIG = 10**9


def caps(train_rows: int = BIG, holdout_rows: int = BIG) -> Caps:
    return Caps(train_rows, holdout_rows, SETTINGS.holdout_snapshots)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return dataset(users=USERS, snapshots=SNAPSHOTS)


@pytest.fixture(scope="module")
def warehouse(data, tmp_path_factory):
    shuffled = np.random.default_rng(5).permutation(data.rows)
    return stored(tmp_path_factory.mktemp("sample") / "w.duckdb", data, shuffled)


def pairs(d: Dataset, rows: np.ndarray | None = None) -> set[tuple[int, str]]:
    rows = np.arange(d.rows) if rows is None else rows
    return {(int(u), str(t)) for u, t in zip(d.groups[rows], d.time[rows], strict=True)}


def pairs_in_order(d: Dataset) -> list[tuple[int, str]]:
    return list(zip(d.groups.tolist(), map(str, d.time), strict=True))


def expected_sample(d: Dataset, period: np.ndarray, cap: int) -> set[tuple[int, str]]:
    """Per label, round(cap * its share) rows (the rest to the other label) with the smallest
    first 32 bits of SHA-256("user:date"), ties by user and date."""
    rows = np.flatnonzero(period)
    positives = int(d.label[rows].sum())
    kept = {1: round(cap * positives / len(rows))}
    kept[0] = cap - kept[1]
    chosen = set()
    for label in (0, 1):
        keyed = sorted(
            (int(hashlib.sha256(f"{u}:{t}".encode()).hexdigest()[:8], 16), int(u), str(t))
            for u, t, y in zip(d.groups[rows], d.time[rows], d.label[rows], strict=True)
            if y == label
        )
        chosen |= {(u, t) for _, u, t in keyed[: kept[label]]}
    return chosen


def test_training_rows_are_the_independently_computed_stratified_sample(data, warehouse):
    sampled = load_features(warehouse, SPEC, "marts", caps(train_rows=1_500))
    train = sampled.time < HOLDOUT_START
    assert train.sum() == 1_500  # exactly the cap
    assert pairs(sampled, np.flatnonzero(train)) == expected_sample(
        data, data.time < HOLDOUT_START, 1_500
    )
    # the holdout is whole, and the label rate of the training rows kept to the row
    assert pairs(sampled, np.flatnonzero(~train)) == pairs(
        data, np.flatnonzero(data.time >= HOLDOUT_START)
    )
    population = data.label[data.time < HOLDOUT_START].mean()
    assert abs(sampled.label[train].mean() - population) <= 0.5 / 1_500
    # every loaded row carries its own values, not a neighbour's
    index = {p: i for i, p in enumerate(pairs_in_order(data))}
    source = [index[p] for p in pairs_in_order(sampled)]
    np.testing.assert_array_equal(sampled.frame["visits"], data.frame["visits"][source])
    np.testing.assert_array_equal(sampled.label, data.label[source])


def test_the_sample_is_the_same_whatever_the_storage_order(data, warehouse, tmp_path):
    in_order = stored(tmp_path / "ordered.duckdb", data, np.arange(data.rows))
    first = load_features(in_order, SPEC, "marts", caps(train_rows=1_500))
    second = load_features(warehouse, SPEC, "marts", caps(train_rows=1_500))
    np.testing.assert_array_equal(first.groups, second.groups)
    np.testing.assert_array_equal(first.time, second.time)
    np.testing.assert_array_equal(first.frame["recency"], second.frame["recency"])


def test_no_sample_below_the_caps(data, warehouse):
    whole = load_features(warehouse, SPEC, "marts")
    capped = load_features(warehouse, SPEC, "marts", caps(train_rows=8_000, holdout_rows=2_000))
    np.testing.assert_array_equal(whole.groups, capped.groups)
    np.testing.assert_array_equal(whole.time, capped.time)
    sample = capped.source["sample"]
    assert sample["train"] == {
        "cap": 8_000,
        "rows": 8_000,
        "positives": int(data.label[data.time < HOLDOUT_START].sum()),
        "kept": 8_000,
        "kept_positives": int(data.label[data.time < HOLDOUT_START].sum()),
        "rate": 1.0,
    }
    assert sample["holdout_from"] == "2026-08-31"


def test_the_holdout_has_its_own_cap(data, warehouse):
    sampled = load_features(warehouse, SPEC, "marts", caps(holdout_rows=500))
    held = sampled.time >= HOLDOUT_START
    assert (~held).sum() == 8_000
    assert pairs(sampled, np.flatnonzero(held)) == expected_sample(
        data, data.time >= HOLDOUT_START, 500
    )
    assert sampled.source["sample"]["holdout"]["kept"] == 500
    assert sampled.source["sample"]["holdout"]["rate"] == 0.25


def test_the_model_card_says_what_was_sampled(tmp_path):
    small = dataset(users=300, snapshots=3)  # 600 rows before the last snapshot, 300 in it
    warehouse = stored(tmp_path / "small.duckdb", small, np.arange(small.rows))
    registry = Registry(LocalArtifactStore(tmp_path / "artifacts"), SPEC.model)
    outcome = train_run(
        registry,
        lambda: load_features(warehouse, SPEC, "marts", caps(train_rows=300)),
        SPEC,
        SETTINGS,
        "run-sampled",
        {"event_type": "test"},
    )
    data = registry.read_json(outcome["version"], "model_card.json")["data"]
    assert data["train_rows"] == 300 and data["holdout_rows"] == 300
    assert data["sample"]["train"]["rows"] == 600
    assert data["sample"]["train"]["kept"] == 300
    assert data["sample"]["train"]["rate"] == 0.5
    assert data["sample"]["holdout"]["rate"] == 1.0


def test_too_few_snapshots_to_hold_out_reads_the_table_whole():
    day = date(2026, 8, 3)
    assert plan([(day, 0, 10), (day, 1, 2)], Caps(5, 5, holdout_snapshots=1)) is None


class _BigQueryNames:
    engine = "bigquery"

    def placeholder(self, name: str) -> str:
        return "@" + name


def test_the_bigquery_rendering_parses_and_binds_only_values():
    days = (date(2026, 8, 3), date(2026, 8, 10))
    sample = plan([(d, label, 1_000) for d in days for label in (0, 1)], caps(100, 100))
    sql, params = sampled_sql(_BigQueryNames(), SPEC, "ds.unused", ["visits", "bought"], sample)
    sqlglot.parse_one(sql, read="bigquery")
    assert "to_hex(sha256(" in sql
    assert set(params) == {"holdout_start"} | {
        f"{period}_{kind}_{label}"
        for period in ("train", "holdout")
        for kind in ("kept", "below")
        for label in (0, 1)
    }
    assert all(isinstance(v, int) for k, v in params.items() if k != "holdout_start")
