"""features_conversion must not read anything dated on or after its snapshot day.

The test rewinds a copy of the raw data to how it stood when a snapshot date S began in the
reporting time zone (later rows deleted, later shipping/delivery/return timestamps erased and
statuses rolled back), rebuilds the features with the same as-of date, and requires the
features at S to be unchanged. A feature that peeks at S or later (a later order, session or
return) changes and fails it.
"""

import shutil

import duckdb

from scripts.data.dbt_runner import run_dbt
from scripts.data.thelook.cutoff import rewind_to
from tests.support.reporting_time import REPORTING_ZONE, day_start, with_local_day

FEATURES = "execkpi_marts.features_conversion"
LABEL_DAYS = 14  # dbt var label_window_days


def features_at(path, snapshot) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        columns = [
            c for (c,) in con.execute(f"select column_name from (describe {FEATURES})").fetchall()
        ]
        kept = ", ".join(c for c in columns if c != "label_purchased")
        return con.execute(
            f"select {kept} from {FEATURES} where snapshot_date = $s order by user_id",
            {"s": snapshot},
        ).fetchall()


def test_features_do_not_read_on_or_after_the_snapshot(generated_warehouse, tmp_path):
    with with_local_day(duckdb.connect(str(generated_warehouse), read_only=True)) as con:
        as_of = con.execute("select max(local_day(created_at)) from raw.orders").fetchone()[0]
        snapshot = con.execute(f"select min(snapshot_date) from {FEATURES}").fetchone()[0]
    original = features_at(generated_warehouse, snapshot)
    assert len(original) > 100

    rewound = tmp_path / "rewound.duckdb"
    shutil.copy(generated_warehouse, rewound)
    with duckdb.connect(str(rewound)) as con:
        rewind_to(con, day_start(snapshot))
        later = con.execute(
            "select count(*) from raw.orders where created_at >= $s::timestamp",
            {"s": day_start(snapshot)},
        )
        assert later.fetchone()[0] == 0
    # In full: an incremental run would keep the features computed before the rewind.
    rebuild = ["run", "--select", "+features_conversion", "--full-refresh"]
    run_dbt(
        [*rebuild, "--vars", f"{{as_of_date: '{as_of}'}}"],
        duckdb_path=rewound,
        env={"EXECKPI_TIME_ZONE": REPORTING_ZONE},
    )
    assert features_at(rewound, snapshot) == original


def test_label_is_an_order_within_the_window(generated_warehouse):
    # Days in the reporting time zone (tests.support.reporting_time).
    with with_local_day(duckdb.connect(str(generated_warehouse), read_only=True)) as con:
        mismatches = con.execute(
            f"""
            select count(*) from {FEATURES} f
            where f.label_purchased <> (
                select count(*) > 0 from raw.orders o
                where o.user_id = f.user_id
                  and local_day(o.created_at) >= f.snapshot_date
                  and local_day(o.created_at) < f.snapshot_date + {LABEL_DAYS}
            )::int
            """
        ).fetchone()[0]
        positives = con.execute(f"select sum(label_purchased) from {FEATURES}").fetchone()[0]
    assert mismatches == 0
    assert positives > 0
