"""The SQL bucket (dbt macro hash_bucket, rendered for DuckDB) and common.experiments agree."""

import json

import duckdb

from common.experiments import assign_variant, hash_bucket
from scripts.data.dbt_runner import run_dbt

USERS = 100_000


def compiled_bucket_sql(duckdb_path) -> str:
    result = run_dbt(
        [
            "compile",
            "--inline",
            "select user_id, {{ hash_bucket(\"'checkout_one_click'\", 'user_id') }} as bucket "
            "from users",
            "--output",
            "json",
            "--quiet",
        ],
        duckdb_path=duckdb_path,
    )
    return json.loads(result.stdout)["compiled"]


def test_sql_and_python_buckets_are_identical(tmp_path):
    sql = compiled_bucket_sql(tmp_path / "unused.duckdb")
    con = duckdb.connect()
    con.execute(f"create table users as select range as user_id from range(1, {USERS + 1})")
    buckets = dict(con.execute(sql).fetchall())
    assert len(buckets) == USERS
    mismatches = [u for u, b in buckets.items() if b != hash_bucket("checkout_one_click", u)]
    assert mismatches == []  # exact float equality, not approximate


def test_variants_follow_cumulative_weights():
    variants, weights = ["a", "b", "c"], [0.2, 0.3, 0.5]
    counts = {v: 0 for v in variants}
    for user in range(30_000):
        counts[assign_variant("split_check", user, variants, weights)] += 1
    for variant, weight in zip(variants, weights, strict=True):
        assert abs(counts[variant] / 30_000 - weight) < 0.015
    assert assign_variant("split_check", 1, ["a", "b"], [0.0, 1.0]) == "b"
