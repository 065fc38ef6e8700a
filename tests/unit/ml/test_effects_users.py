"""The effect models' warehouse read: BigQuery SQL with the experiment id bound, its refusals."""

from datetime import date

import pyarrow as pa
import pytest
import sqlglot

from common.errors import Unprocessable
from common.experiments import ExperimentDefinition
from common.ml.effects.users import read_users
from common.warehouse import QueryResult

TWO_ARMS = ExperimentDefinition(
    "it's", ("control", "treatment"), (0.5, 0.5), date(2026, 7, 1), None, "x"
)
ROWS = {
    "variant": ["control", "treatment", "treatment"],
    "user_id": [1, 2, 3],
    "browser": ["Chrome", "Safari", "Chrome"],
    "traffic_source": ["Email", "Email", "Organic"],
    "country": ["China", "Japan", "China"],
    "converted": [0.0, 1.0, 1.0],
    "revenue": [0.0, 12.5, 30.0],
    "pre_converted": [1.0, 0.0, 0.0],
    "pre_revenue": [8.0, 0.0, 0.0],
}


class RecordingBigQuery:
    """Answers every query with ROWS and keeps what it was sent."""

    def __init__(self):
        self.sent = []

    def placeholder(self, name: str) -> str:
        return f"@{name}"

    def query(self, sql, params=None, *, labels=None):
        self.sent.append((sql, params))
        return QueryResult(table=pa.table(ROWS), elapsed_ms=1.0)


def test_the_query_is_bigquery_sql_with_the_id_bound():
    warehouse = RecordingBigQuery()
    users = read_users(warehouse, TWO_ARMS, max_users=10)
    ((sql, params),) = warehouse.sent
    sqlglot.parse_one(sql, read="bigquery")
    assert "it's" not in sql and params == {"experiment_id": "it's"}
    assert users.treated.tolist() == [False, True, True]
    assert users.revenue.tolist() == [0.0, 12.5, 30.0]
    assert users.segments["returning"].tolist() == ["yes", "no", "no"]
    assert users.segments["country"].tolist() == ["China", "Japan", "China"]


def test_too_many_users_or_arms_are_refused():
    with pytest.raises(Unprocessable, match="more than 2 exposed users"):
        read_users(RecordingBigQuery(), TWO_ARMS, max_users=2)
    three = ExperimentDefinition("e", ("a", "b", "c"), (0.3, 0.3, 0.4), date(2026, 7, 1), None, "x")
    with pytest.raises(Unprocessable, match="two arms"):
        read_users(RecordingBigQuery(), three, max_users=10)
