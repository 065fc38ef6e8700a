import os
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from common.config import load_config
from common.warehouse import (
    WarehouseQueryError,
    WarehouseUnavailable,
    open_warehouse,
)
from common.warehouse.duckdb_engine import DuckDBWarehouse


@pytest.fixture
def warehouse(tmp_path):
    writer = DuckDBWarehouse(tmp_path / "wh.duckdb", read_only=False)
    writer.query("create table orders(id int, status varchar, amount double)")
    writer.query(
        "insert into orders values (1, 'Complete', 10.5), (2, 'Cancelled', 3.0), (3, 'Complete', 4)"
    )
    writer.close()
    return DuckDBWarehouse(tmp_path / "wh.duckdb")


def test_named_parameters_are_bound(warehouse):
    status = warehouse.placeholder("status")
    result = warehouse.query(
        f"select count(*) as n, sum(amount) as revenue from orders where status = {status}",
        {"status": "Complete"},
    )
    assert isinstance(result.table, pa.Table)
    assert result.table.to_pylist() == [{"n": 2, "revenue": 14.5}]
    assert result.elapsed_ms > 0
    assert result.bytes_processed is None


def test_values_are_never_sql(warehouse):
    hostile = "Complete'; drop table orders; --"
    result = warehouse.query(
        f"select count(*) as n from orders where status = {warehouse.placeholder('s')}",
        {"s": hostile},
    )
    assert result.table.to_pylist() == [{"n": 0}]
    assert warehouse.query("select count(*) as n from orders").table.to_pylist() == [{"n": 3}]


def test_parameter_types_round_trip(warehouse):
    values = {
        "i": 7,
        "f": 2.5,
        "b": True,
        "s": "x",
        "d": date(2024, 2, 29),
        "ts": datetime(2024, 1, 1, 12, 30),
        "n": Decimal("1.25"),
        "ids": [1, 3],
    }
    sql = "select " + ", ".join(f"{warehouse.placeholder(k)} as {k}" for k in values)
    row = warehouse.query(sql, values).table.to_pylist()[0]
    assert row["i"] == 7 and row["f"] == 2.5 and row["b"] is True and row["s"] == "x"
    assert row["d"] == date(2024, 2, 29) and row["ts"] == datetime(2024, 1, 1, 12, 30)
    assert row["ids"] == [1, 3]
    listed = warehouse.query(
        f"select count(*) as n from orders where list_contains({warehouse.placeholder('ids')}, id)",
        {"ids": [1, 3]},
    )
    assert listed.table.to_pylist() == [{"n": 2}]


@pytest.mark.parametrize("name", ["a-b", "1x", "x y", "", "name;drop"])
def test_parameter_names_must_be_identifiers(warehouse, name):
    with pytest.raises(ValueError, match="not an identifier"):
        warehouse.query("select 1", {name: 1})
    with pytest.raises(ValueError):
        warehouse.placeholder(name)


def test_unbindable_values_are_refused(warehouse):
    with pytest.raises(TypeError, match="not bindable"):
        warehouse.query("select $x as x", {"x": object()})


def test_engine_errors_are_safe_to_show(warehouse):
    with pytest.raises(WarehouseQueryError) as error:
        warehouse.query("select secret_column from orders")
    assert "secret_column" not in str(error.value)
    assert "secret_column" in str(error.value.__cause__)


def test_read_only_warehouse_cannot_write(warehouse):
    with pytest.raises(WarehouseQueryError):
        warehouse.query("drop table orders")


def test_missing_database_is_unavailable_not_created(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "missing.duckdb")
    with pytest.raises(WarehouseUnavailable, match="load the data first"):
        warehouse.query("select 1")
    assert not (tmp_path / "missing.duckdb").exists()


def test_reader_reopens_a_file_replaced_by_a_new_build(warehouse, tmp_path):
    assert warehouse.query("select count(*) as n from orders").table.to_pylist() == [{"n": 3}]
    version = warehouse.data_version()
    # A build writes a new file and renames it into place, as readers keep theirs open.
    rebuilt = DuckDBWarehouse(tmp_path / "next.duckdb", read_only=False)
    rebuilt.query("create table orders as select range as id from range(5)")
    rebuilt.close()
    os.replace(tmp_path / "next.duckdb", tmp_path / "wh.duckdb")
    assert warehouse.data_version() != version
    assert warehouse.query("select count(*) as n from orders").table.to_pylist() == [{"n": 5}]


def test_open_warehouse_follows_configuration(tmp_path):
    config = load_config({"EXECKPI_DUCKDB_PATH": str(tmp_path / "x.duckdb")})
    warehouse = open_warehouse(config)
    assert warehouse.engine == "duckdb" and warehouse.read_only
    bigquery = open_warehouse(
        load_config({"EXECKPI_WAREHOUSE": "bigquery", "EXECKPI_BQ_PROJECT": "shop-prod-1"})
    )
    assert bigquery.engine == "bigquery"
    assert (bigquery.project, bigquery.location) == ("shop-prod-1", "EU")
