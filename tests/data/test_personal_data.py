"""No direct personal data in the marts or the KPI answers (data minimisation, GDPR art. 5).

Every marts table (every model under dbt_project/models/marts, and the seeds) and every
KPI's answer is scanned twice: column names against the names personal data goes by, and
text values against what it looks like — an e-mail address, an IPv4/IPv6 address, or exactly
a first name, last name or e-mail of a user in the raw users table. Staging tables with a
user_id (a person's rows) must not pass such columns on either.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest
import yaml

from common.kpi.catalogue import CATALOGUE
from tests.support.scores import KPIS_OF_SCORES

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
# Column names of direct personal data: names, e-mail, address, postal code, phone, IP, a
# person's coordinates, birth date. "Email" alone is also a traffic source (sessions_email).
PERSONAL_COLUMN = re.compile(
    r"(^|_)(first_?name|last_?name|full_?name|surname|street|address|postal_?code|zip(_?code)?"
    r"|phone|mobile|ip|ip_?address|ipv[46]|lat|latitude|lon|lng|longitude|birth_?date"
    r"|date_of_birth|dob)($|_)|^((user|customer|contact)_)?e_?mail(_?address)?$"
)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
TOKEN_SPLIT = re.compile(r"[\s,;/()\[\]<>\"']+")


def is_ip_address(token: str) -> bool:
    try:
        ipaddress.ip_address(token)
    except ValueError:
        return False
    return True


def personal_values(values: Iterable[object], people: frozenset[str]) -> list[str]:
    """The text values that look like personal data or are a user's name or e-mail."""
    found = []
    for value in values:
        if not isinstance(value, str):
            continue
        tokens = [t for t in TOKEN_SPLIT.split(value) if t]
        if (
            EMAIL.search(value)
            or value.strip().lower() in people
            or any(is_ip_address(t) for t in tokens)
        ):
            found.append(value)
    return found


@pytest.fixture
def people(warehouse: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Every first name, last name and e-mail in the raw users table, lower case."""
    rows = warehouse.execute(
        "select lower(first_name) from raw.users union select lower(last_name) from raw.users "
        "union select lower(email) from raw.users"
    ).fetchall()
    names = frozenset(value for (value,) in rows if value)
    assert len(names) > 100  # the scan has something to look for
    return names


def declared_vocabularies() -> dict[tuple[str, str], frozenset[str]]:
    """Per (mart, column), the values its accepted_values test allows: a word of the product's
    own vocabulary (a grain "day", a segment) is no one's name even where a user bears it."""
    vocabularies = {}
    for path in (MODELS / "marts").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            for column in model.get("columns", []):
                for test in column.get("data_tests", []):
                    if isinstance(test, dict) and "accepted_values" in test:
                        values = test["accepted_values"]["arguments"]["values"]
                        key = (model["name"], column["name"])
                        vocabularies[key] = frozenset(str(v) for v in values)
    return vocabularies


def tables_in(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]
    )
    return sorted(name for (name,) in rows.fetchall())


def test_the_scanners_recognise_personal_data():
    people = frozenset({"ada", "lovelace", "ada@example.org"})
    samples = [
        "ada@example.org",
        "contact: x.y@shop.de",
        "10.0.0.1",
        "from 2001:db8::1 today",
        "Lovelace",
    ]
    assert personal_values(samples, people) == samples
    assert personal_values(["Chrome", "Email", "Champions", "2026-01-01", 3], people) == []
    named = [
        "first_name",
        "email",
        "user_email",
        "street_address",
        "postal_code",
        "ip_address",
        "latitude",
    ]
    assert all(PERSONAL_COLUMN.search(n) for n in named)
    fine = ["product_name", "user_id", "traffic_source", "sessions_email", "ipo", "country"]
    assert not any(PERSONAL_COLUMN.search(n) for n in fine)


def test_every_mart_is_free_of_direct_personal_data(warehouse, people):
    marts = tables_in(warehouse, "execkpi_marts")
    assert {p.stem for p in (MODELS / "marts").rglob("*.sql")} <= set(marts)
    vocabularies = declared_vocabularies()
    assert ("customers_by_period", "grain") in vocabularies  # the YAML was read
    found, scanned = {}, {}
    for table in marts:
        result = warehouse.execute(f"select * from execkpi_marts.{table}")
        columns = [c[0] for c in result.description]
        rows = result.fetchall()
        scanned[table] = len(rows)
        named = [c for c in columns if PERSONAL_COLUMN.search(c.lower())]
        allowed = [vocabularies.get((table, c), frozenset()) for c in columns]
        texts = (v for row in rows for v, words in zip(row, allowed, strict=True) if v not in words)
        valued = personal_values(texts, people)
        if named or valued:
            found[table] = {"columns": named, "values": valued[:5]}
    assert found == {}
    # The real sample's experiments have no exposures; the per-user marts have rows in both.
    assert all(scanned[t] for t in ("customer_ltv", "rfm_segments", "features_conversion"))


def test_staging_passes_no_personal_columns_on(warehouse):
    person_rows = warehouse.execute(
        "select distinct table_name from information_schema.columns "
        "where table_schema = 'execkpi_staging' and column_name = 'user_id' "
        "and table_name <> 'erasure_requests'"
    ).fetchall()
    assert {"stg_thelook__users", "stg_thelook__events"} <= {n for (n,) in person_rows}
    found = {}
    for (table,) in person_rows:
        columns = warehouse.execute(f"select * from execkpi_staging.{table} limit 0").description
        named = [c[0] for c in columns if PERSONAL_COLUMN.search(c[0].lower())]
        if named:
            found[table] = named
    assert found == {}


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_no_kpi_answers_with_personal_data(function_client, generated_warehouse, name):
    client = function_client("kpi", EXECKPI_DUCKDB_PATH=str(generated_warehouse))
    params = {"experiment_id": "checkout_one_click"} if name == "experiment_metrics" else {}
    body = client.get(f"/kpi/{name}", query_string=params).get_json()
    assert body["rows"] or name in KPIS_OF_SCORES, name
    columns = [c["name"] for c in body["columns"]]
    assert columns == [column.name for column in CATALOGUE[name].output_columns]
    assert [c for c in columns if PERSONAL_COLUMN.search(c)] == []
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        people = con.execute(
            "select lower(first_name) from raw.users union select lower(last_name) "
            "from raw.users union select lower(email) from raw.users"
        ).fetchall()
    values = (v for row in body["rows"] for v in row)
    assert personal_values(values, frozenset(p for (p,) in people)) == []
