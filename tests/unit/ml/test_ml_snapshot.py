"""The latest feature snapshot on BigQuery, through google-cloud-bigquery's request layer
against the fake REST API: dates, ids and chunk bounds travel as typed parameters, never in
the SQL text; and the deciles of batch scores."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import sqlglot

from common.ml.batch_scores import deciles
from common.ml.features import CONVERSION
from common.ml.snapshot import NoSnapshot, Snapshot
from tests.unit import test_privacy_bigquery as erasure_tests

# The erasure tests' fixtures (a BigQuery warehouse on the fake REST API) and answer helpers.
fake_bq, warehouse = erasure_tests.fake_bq, erasure_tests.warehouse
answer, parameters = erasure_tests.answer, erasure_tests.parameters

FEATURES = CONVERSION.features[:2]  # age, gender
ROW_FIELDS = [("user_id", "INTEGER"), ("age", "INTEGER"), ("gender", "STRING")]
LATEST = answer([("latest", "DATE")], [["2026-10-12"]])


def test_users_by_id_are_an_array_parameter(fake_bq, warehouse):
    fake_bq.answer("jobs.query", LATEST, answer(ROW_FIELDS, [["42", "31", "F"]]))
    snapshot = Snapshot(warehouse, CONVERSION, "execkpi_marts", FEATURES)
    assert snapshot.day == date(2026, 10, 12)
    table = snapshot.users([42, 987654321987])

    assert table.to_pylist() == [{"user_id": 42, "age": 31, "gender": "F"}]
    _, request = fake_bq.calls("jobs.query")
    sql = request.body["query"]
    assert "in unnest(@user_ids)" in sql and "987654321987" not in sql and "2026" not in sql
    sent = parameters(request)
    assert sent["user_ids"]["parameterType"] == {"type": "ARRAY", "arrayType": {"type": "INT64"}}
    values = sent["user_ids"]["parameterValue"]["arrayValues"]
    assert [v["value"] for v in values] == ["42", "987654321987"]
    assert sent["snapshot"]["parameterType"] == {"type": "DATE"}
    assert sent["snapshot"]["parameterValue"] == {"value": "2026-10-12"}
    assert sqlglot.parse_one(sql, read="bigquery") is not None


def test_chunks_start_after_the_last_id_of_the_one_before(fake_bq, warehouse):
    full = answer(ROW_FIELDS, [["3", "20", "M"], ["8", "40", "F"]])
    last = answer(ROW_FIELDS, [["11", "50", "M"]])
    fake_bq.answer("jobs.query", LATEST, full, last)
    snapshot = Snapshot(warehouse, CONVERSION, "execkpi_marts", FEATURES)
    chunks = list(snapshot.chunks(2))

    assert [c.column("user_id").to_pylist() for c in chunks] == [[3, 8], [11]]
    _, first, second = fake_bq.calls("jobs.query")
    assert "limit @rows" in first.body["query"] and "user_id > @after" in first.body["query"]
    assert parameters(second)["after"]["parameterValue"] == {"value": "8"}
    assert parameters(second)["rows"]["parameterValue"] == {"value": "2"}


def test_an_empty_mart_has_no_snapshot_to_score(fake_bq, warehouse):
    fake_bq.answer("jobs.query", answer([("latest", "DATE")], [[None]]))
    with pytest.raises(NoSnapshot):
        Snapshot(warehouse, CONVERSION, "execkpi_marts", FEATURES)


def test_a_feature_the_mart_lacks_is_refused_before_any_query(fake_bq, warehouse):
    stale = (*FEATURES, type(FEATURES[0])("age; drop table x", "numeric", "not a column"))
    with pytest.raises(Exception, match="no longer has"):
        Snapshot(warehouse, CONVERSION, "execkpi_marts", stale)
    assert fake_bq.calls("jobs.query") == []


def test_deciles_split_users_by_score_highest_first_ties_by_user_id():
    rng = np.random.default_rng(3)
    for rows in (1, 9, 10, 11, 101, 1000):
        scores = rng.integers(0, 20, rows) / 20  # many ties
        users = rng.permutation(rows) + 1
        got = deciles(scores, users)
        ranked = sorted(range(rows), key=lambda i: (-scores[i], users[i]))
        # The k-th tenth of the ranking, by counting: positions [ceil(n(k-1)/10), ceil(nk/10)).
        expected = np.empty(rows, int)
        for k in range(1, 11):
            low, high = -(-rows * (k - 1) // 10), -(-rows * k // 10)
            expected[ranked[low:high]] = k
        assert got.tolist() == expected.tolist(), rows
