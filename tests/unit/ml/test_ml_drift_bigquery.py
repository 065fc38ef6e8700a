"""The drift measurement's queries on BigQuery, through google-cloud-bigquery's own request
layer against the fake BigQuery REST API: the SQL parses as BigQuery's dialect and holds names
only; the edges, the snapshot date and the sample size travel as typed parameters; the answer's
rows land in the reference's bins."""

from __future__ import annotations

from datetime import date

import pytest
import sqlglot

from common.ml.data import TrainingDataError
from common.ml.drift.histograms import snapshot_counts
from common.ml.drift.scoring import scored_sample
from common.ml.features import CONVERSION
from tests.unit.test_privacy_bigquery import answer, fake_bq, parameters, warehouse  # noqa: F401

TABLE = "execkpi_marts.features_conversion"
SNAPSHOT = date(2026, 11, 30)
REFERENCE = {
    "features": {
        "age": {"kind": "numeric", "edges": [24.5, 37.25, 51.125], "counts": [1, 1, 1, 1, 0]},
        "country": {
            "kind": "categorical",
            "categories": ["China", "Spain"],
            "counts": [1, 1, 0, 0],
        },
    }
}


def test_the_histograms_are_one_query_with_bound_edges_and_date(fake_bq, warehouse):  # noqa: F811
    rows = [
        ["age", "0", "7"],
        ["age", "3", "2"],
        ["age", "4", "1"],  # the null bin
        ["country", "Spain", "5"],
        ["country", "Atlantis", "3"],  # never seen in training
        ["country", None, "2"],
    ]
    fields = [("feature", "STRING"), ("bucket", "STRING"), ("n", "INT64")]
    fake_bq.answer("jobs.query", answer(fields, rows))
    counts = snapshot_counts(warehouse, TABLE, CONVERSION, REFERENCE, SNAPSHOT)

    assert counts == {"age": [7, 0, 0, 2, 1], "country": [0, 5, 3, 2]}
    [request] = fake_bq.calls("jobs.query")
    sql = request.body["query"]
    assert sqlglot.parse_one(sql, read="bigquery") is not None
    assert "24.5" not in sql and "2026" not in sql
    sent = parameters(request)
    assert sent["snapshot"]["parameterType"] == {"type": "DATE"}
    assert sent["snapshot"]["parameterValue"] == {"value": "2026-11-30"}
    edges = [sent[f"e0_{k}"] for k in range(3)]
    assert [e["parameterType"] for e in edges] == [{"type": "FLOAT64"}] * 3
    assert [float(e["parameterValue"]["value"]) for e in edges] == [24.5, 37.25, 51.125]


def test_the_scored_sample_is_bounded_by_a_parameter(fake_bq, warehouse):  # noqa: F811
    fake_bq.answer("jobs.query", answer([(name, "STRING") for name in CONVERSION.names]))
    with pytest.raises(TrainingDataError):  # an empty answer stops it before any scoring
        scored_sample(warehouse, TABLE, CONVERSION, SNAPSHOT, None, None, rows=20_000)
    [request] = fake_bq.calls("jobs.query")
    sql = request.body["query"]
    assert sqlglot.parse_one(sql, read="bigquery") is not None
    assert sql.endswith("limit @rows") and "20000" not in sql
    sent = parameters(request)
    assert sent["rows"]["parameterType"] == {"type": "INT64"}
    assert sent["rows"]["parameterValue"] == {"value": "20000"}
    assert sent["snapshot"]["parameterType"] == {"type": "DATE"}
