"""The KPI benchmark's agreement check on the generated warehouse: each of its questions
answered by the KPI on the DuckDB marts and by the benchmark's own PostgreSQL query over the raw
tables (written apart from the marts), in both table layouts. Needs PostgreSQL 15 from Debian's
package (CI does not install it): skipped with the reason when it is absent."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from scripts.benchmarks import postgres_thelook
from scripts.benchmarks.kpi_vs_postgres import (
    QUESTIONS,
    disagreements,
    duckdb_rows,
    newest_order_day,
    postgres_rows,
)
from scripts.benchmarks.postgres_server import missing_reason, running_postgres
from tests.support.reporting_time import REPORTING_ZONE

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


@pytest.fixture(scope="module")
def postgres(generated_warehouse) -> str:
    with running_postgres() as conninfo:
        postgres_thelook.load(conninfo, generated_warehouse)
        yield conninfo


@pytest.fixture(scope="module")
def kpi_answers(generated_warehouse) -> dict[str, tuple[dict, list]]:
    """Per question: its parameters, and the KPI's answer on the DuckDB marts."""
    end = newest_order_day(generated_warehouse, REPORTING_ZONE)
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        return {q.label: (q.params(end), duckdb_rows(con, q.kpi, q.params(end))) for q in QUESTIONS}


def answers(kpi_answers, conninfo: str, layout: str, question) -> tuple[list, list]:
    params, expected = kpi_answers[question.label]
    with postgres_thelook.connect(conninfo, layout) as con:
        return expected, postgres_rows(con, question.kpi, params, REPORTING_ZONE)


@pytest.mark.parametrize("layout", postgres_thelook.LAYOUTS)
@pytest.mark.parametrize("question", QUESTIONS, ids=lambda question: question.label)
def test_postgres_answers_as_the_kpi(kpi_answers, postgres, layout, question):
    expected, actual = answers(kpi_answers, postgres, layout, question)
    assert len(expected) > 1
    assert disagreements(question.kpi, expected, actual) == []


def test_a_cent_apart_is_a_disagreement(kpi_answers, postgres):
    question = next(q for q in QUESTIONS if q.kpi == "revenue")
    expected, actual = answers(kpi_answers, postgres, "plain", question)
    period, orders, items, revenue, *rest = actual[0]
    actual[0] = (period, orders, items, revenue + Decimal("0.01"), *rest)
    assert disagreements(question.kpi, expected, actual) == [
        f"row 0: revenue {float(revenue + Decimal('0.01'))!r} instead of {float(expected[0][3])!r}"
    ]
