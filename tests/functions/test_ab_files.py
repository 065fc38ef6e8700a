"""POST /ab/analyze/file: a per-user experiment file analysed end to end, against statsmodels
on a pandas computation of the same data, and the published results of two public tests; and
every kind of bad file answered 400 (or 413) naming the problem, leaving nothing behind."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.weightstats import ttest_ind

from common.experiment_files.load import MAX_PARQUET_ROWS
from common.experiment_files.upload import MAX_CSV_BYTES, MAX_UPLOAD_BYTES
from tests.support.datasets import SHARED_DATASETS

ROOT = Path(__file__).parents[2]

UDACITY = SHARED_DATASETS / "ab_data" / "ab_data.csv.gz"
COUNTRIES = SHARED_DATASETS / "ab_data" / "countries.csv"
COOKIE_CATS = SHARED_DATASETS / "cookie_cats" / "cookie_cats.csv"
PATH = "/ab/analyze/file"
# The Udacity landing-page test as its users are mapped: a row's landing page must be the one
# its group was shown (the new page for the treatment).
UDACITY_MAPPING = {
    "user_column": "user_id",
    "variant_column": "group",
    "control": "control",
    "metrics": "converted",
    "exposure_column": "landing_page",
    "exposure": "control:old_page,treatment:new_page",
    "options": json.dumps({"scale": "absolute"}),  # the scale statsmodels tests
}


def shared(path):
    if not path.is_file():
        pytest.skip(f"the shared dataset {path.name} is not at {path} (../shared/datasets)")
    return path


@pytest.fixture
def client(function_client, monkeypatch, tmp_path):
    """The abtest function, its temporary files in ``tmp_path/uploads`` (checked empty after)."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    yield function_client("abtest")
    assert list(uploads.iterdir()) == []  # every upload's file removed, answered or refused


def upload(client, body: bytes, **query: str):
    return client.post(PATH, data=body, query_string=query)


def analysed(client, body: bytes, **query: str) -> dict:
    response = upload(client, body, **query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def refused(client, body: bytes, status: int = 400, **query: str) -> dict:
    response = upload(client, body, **query)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "field"}
    return error


# --- the Udacity landing-page test ---------------------------------------------------------


@pytest.fixture(scope="module")
def udacity_frame():
    """The cleaning everyone publishes for this test, in pandas: rows whose landing page matches
    the group, then the first row of each user (one user, 773192, has two)."""
    df = pd.read_csv(shared(UDACITY))
    matches = (df["group"] == "treatment") == (df["landing_page"] == "new_page")
    return df[matches].drop_duplicates("user_id", keep="first")


def test_udacity_through_the_upload_gives_the_published_result(client, udacity_frame):
    result = analysed(client, UDACITY.read_bytes(), **UDACITY_MAPPING)
    assert result["file"] == {"format": "csv", "compressed": True, "bytes": UDACITY.stat().st_size}
    # 294,478 rows, 3,893 whose group and page disagree, one user twice: 290,584 users.
    assert result["data_quality"] == {
        "rows": 294478,
        "rows_without_user_or_variant": 0,
        "exposure_mismatches": 3893,
        "duplicate_rows": 1,
        "users_in_several_variants": 0,
        "users": 290584,
        "missing_values": {"converted": 0},
    }
    (c,) = result["analysis"]["comparisons"]
    # Published (Udacity Data Analyst Nanodegree, "Analyze A/B Test Results", on this
    # ab_data.csv): control 0.1204, treatment 0.1188, z ≈ -1.31, two-sided p ≈ 0.190.
    assert round(c["control"]["mean"], 4) == 0.1204
    assert round(c["treatment"]["mean"], 4) == 0.1188
    assert round(c["statistic"], 2) == -1.31 and round(c["p_value"], 3) == 0.190
    arms = udacity_frame.groupby("group")["converted"].agg(["sum", "count"])
    z, p = proportions_ztest(
        [arms.loc["treatment", "sum"], arms.loc["control", "sum"]],
        [arms.loc["treatment", "count"], arms.loc["control", "count"]],
    )
    assert (c["statistic"], c["p_value"]) == pytest.approx((z, p), abs=1e-9)
    assert result["analysis"]["decision"]["verdict"] == "INCONCLUSIVE"
    assert "breakdowns" not in result


def test_udacity_as_parquet_gives_the_same_answer(client, tmp_path):
    parquet = tmp_path / "ab_data.parquet"
    with duckdb.connect() as con:
        con.execute(
            "copy (select * from read_csv($csv)) to '" + str(parquet) + "' (format parquet)",
            {"csv": str(shared(UDACITY))},
        )
    as_csv = analysed(client, UDACITY.read_bytes(), **UDACITY_MAPPING)
    as_parquet = analysed(client, parquet.read_bytes(), **UDACITY_MAPPING)
    assert as_parquet["file"]["format"] == "parquet"
    assert as_parquet["data_quality"] == as_csv["data_quality"]
    assert as_parquet["analysis"] == as_csv["analysis"]


def test_udacity_by_country_gives_each_countrys_test(client, udacity_frame, tmp_path):
    """countries.csv joined to the rows: one breakdown value per country, each the z-test of
    that country's users (statsmodels on the pandas cleaning)."""
    joined = tmp_path / "ab_data_countries.csv"
    with duckdb.connect() as con:
        con.execute(
            "copy (select a.*, c.country from read_csv($rows) a "
            "left join read_csv($countries) c using (user_id)) to '"
            + str(joined)
            + "' (header, delimiter ';')",
            {"rows": str(shared(UDACITY)), "countries": str(shared(COUNTRIES))},
        )
    result = analysed(
        client, joined.read_bytes(), dimensions="country", delimiter=";", **UDACITY_MAPPING
    )
    (breakdown,) = result["breakdowns"]
    assert breakdown["dimension"] == "country"
    countries = pd.read_csv(COUNTRIES)
    frame = udacity_frame.merge(countries, on="user_id")
    users = frame["country"].value_counts()
    assert [v["dimension_value"] for v in breakdown["values"]] == list(users.index)
    for value in breakdown["values"]:
        arms = frame[frame["country"] == value["dimension_value"]].groupby("group")["converted"]
        x, n = arms.sum(), arms.count()
        z, p = proportions_ztest([x["treatment"], x["control"]], [n["treatment"], n["control"]])
        (c,) = value["comparisons"]
        assert (c["statistic"], c["p_value"]) == pytest.approx((z, p), abs=1e-9)
        assert value["units"] == users[value["dimension_value"]]


# --- Cookie Cats ---------------------------------------------------------------------------


def test_cookie_cats_through_the_upload_gives_the_published_result(client):
    result = analysed(
        client,
        shared(COOKIE_CATS).read_bytes(),
        user_column="userid",
        variant_column="version",
        control="gate_30",
        metrics="retention_7,retention_1,sum_gamerounds",
        options=json.dumps({"scale": "absolute"}),
    )
    assert result["data_quality"]["users"] == 90189
    by_metric = {c["metric"]: c for c in result["analysis"]["comparisons"]}
    # Published (DataCamp, "Mobile Games: A/B Testing with Cookie Cats"): moving the gate from
    # level 30 to 40 takes 1-day retention from 44.82% to 44.23% and 7-day retention from
    # 19.02% to 18.20%.
    for metric, control, treatment in (
        ("retention_1", 0.4482, 0.4423),
        ("retention_7", 0.1902, 0.1820),
    ):
        assert round(by_metric[metric]["control"]["mean"], 4) == control
        assert round(by_metric[metric]["treatment"]["mean"], 4) == treatment
    df = pd.read_csv(COOKIE_CATS)
    gate_30, gate_40 = (df[df["version"] == v] for v in ("gate_30", "gate_40"))
    for metric in ("retention_1", "retention_7"):
        z, p = proportions_ztest(
            [gate_40[metric].sum(), gate_30[metric].sum()], [len(gate_40), len(gate_30)]
        )
        assert (by_metric[metric]["statistic"], by_metric[metric]["p_value"]) == pytest.approx(
            (z, p), abs=1e-9
        )
    rounds = by_metric["sum_gamerounds"]
    assert rounds["kind"] == "mean"
    t, p, df_ = ttest_ind(gate_40["sum_gamerounds"], gate_30["sum_gamerounds"], usevar="unequal")
    assert (rounds["statistic"], rounds["p_value"], rounds["df"]) == pytest.approx(
        (t, p, df_), abs=1e-8
    )
    assert result["analysis"]["decision"]["verdict"] == "DO NOT SHIP"


# --- the data-quality rules and CUPED, on small files --------------------------------------

SMALL = {"user_column": "user", "variant_column": "arm", "control": "a", "metrics": "bought"}


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_the_data_quality_rules_keep_first_drop_the_ambiguous_and_count_all(client):
    body = csv_bytes(
        "user,arm,at,bought,spend",
        "1,a,2026-01-02,1,5",  # user 1 twice in a: the earlier row (below) is kept
        "1,a,2026-01-01,0,0",
        "2,a,2026-01-01,0,",  # no spend: left out of spend only
        "3,b,2026-01-01,1,7.5",
        "4,a,2026-01-01,1,1",  # user 4 in both arms: left out
        "4,b,2026-01-01,1,1",
        ",b,2026-01-01,1,1",  # no user
        "5,,2026-01-01,1,1",  # no arm
        "6,b,2026-01-01,0,2.5",
    )
    result = analysed(client, body, first_by="at", **{**SMALL, "metrics": "bought,spend"})
    assert result["data_quality"] == {
        "rows": 9,
        "rows_without_user_or_variant": 2,
        "exposure_mismatches": 0,
        "duplicate_rows": 1,
        "users_in_several_variants": 1,
        "users": 4,
        "missing_values": {"bought": 0, "spend": 1},
    }
    a, b = result["analysis"]["variants"]
    assert (a["name"], a["units"], b["name"], b["units"]) == ("a", 2, "b", 2)
    by_metric = {c["metric"]: c for c in result["analysis"]["comparisons"]}
    assert by_metric["bought"]["kind"] == "proportion" and by_metric["spend"]["kind"] == "mean"
    assert by_metric["bought"]["control"] == {"n": 2, "mean": 0.0}  # user 1's earlier row: 0
    assert by_metric["spend"]["control"] == {"n": 1, "mean": 0.0}
    assert by_metric["spend"]["treatment"] == {"n": 2, "mean": 5.0}
    # Without first_by the first row in the file is kept: user 1 bought.
    first = analysed(client, body, **SMALL)
    assert first["analysis"]["comparisons"][0]["control"] == {"n": 2, "mean": 0.5}


def test_covariates_and_a_dimension_give_the_statistics_analyze_gets_from_numpy(client):
    """The file's CUPED analysis equals /ab/analyze's on sums computed here with numpy, and a
    dimension's breakdown equals /ab/breakdown's shape, one value per country."""
    rng = np.random.default_rng(17)
    n = 400
    arm = np.where(np.arange(n) % 2 == 0, "control", "treatment")
    before = rng.gamma(2.0, 10.0, n)
    after = 0.8 * before + rng.normal(0, 5, n) + np.where(arm == "treatment", 1.5, 0.0)
    country = rng.choice(["DE", "FR", "IT"], n)
    frame = pd.DataFrame(
        {"id": np.arange(n), "arm": arm, "after": after, "before": before, "country": country}
    )
    options = {"scale": "absolute", "bayesian": False}
    result = analysed(
        client,
        frame.to_csv(index=False).encode(),
        user_column="id",
        variant_column="arm",
        control="control",
        metrics="after",
        covariates="after:before",
        dimensions="country",
        options=json.dumps(options),
    )

    def statistics(rows):
        y, x = rows["after"].to_numpy(), rows["before"].to_numpy()
        return {
            "n": len(y),
            "sum": y.sum(),
            "sum_squares": (y * y).sum(),
            "covariate_sum": x.sum(),
            "covariate_sum_squares": (x * x).sum(),
            "cross_product_sum": (x * y).sum(),
        }

    variants = [
        {"name": v, "metrics": {"after": statistics(frame[frame["arm"] == v])}}
        for v in ("control", "treatment")
    ]
    expected = client.post("/ab/analyze", json={"variants": variants, "options": options})
    (c,) = result["analysis"]["comparisons"]
    (e,) = expected.get_json()["comparisons"]
    assert c["cuped"] is not None and c["cuped"]["theta"] == pytest.approx(e["cuped"]["theta"])
    assert (c["statistic"], c["p_value"]) == pytest.approx((e["statistic"], e["p_value"]))
    (breakdown,) = result["breakdowns"]
    counts = frame["country"].value_counts()
    assert [v["dimension_value"] for v in breakdown["values"]] == list(counts.index)
    assert [v["units"] for v in breakdown["values"]] == list(counts)


# --- bad input: a 4xx naming the problem, nothing left behind ------------------------------

GOOD = csv_bytes("user,arm,bought,note", "1,a,1,x", "2,b,0,y", "3,a,0,z")


def gzipped_zeros(size: int) -> bytes:
    """A gzip member inflating to a CSV of ``size`` bytes, built a block at a time."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"1,a,0,x\n" * 131072  # 1 MiB
    parts = [deflater.compress(b"user,arm,bought,note\n")]
    parts += [deflater.compress(block) for _ in range(size // len(block) + 1)]
    return b"".join([*parts, deflater.flush()])


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


@pytest.mark.parametrize(
    ("body", "query", "field", "says"),
    [
        (GOOD, {"user_column": None}, "user_column", "is required"),
        (GOOD, {"metrics": "bought,clicks"}, "metrics", "no column 'clicks'"),
        (GOOD, {"metrics": "note"}, "metrics", "holds VARCHAR values"),
        (GOOD, {"covariates": "spend:bought"}, "covariates", "not one of the metrics"),
        (csv_bytes("user,arm,bought"), {}, "body", "has no rows"),
        (b"", {}, "body", "is empty"),
        (
            csv_bytes("user,arm,bought", "1,a,1", "2,b,0", "3,b,\xe9").replace(
                b"\xc3\xa9", b"\xe9"
            ),
            {},
            "body",
            "is not UTF-8",
        ),
        (GOOD.replace(b",", b";"), {}, "user_column", "give the file's delimiter"),
        (gzip.compress(GOOD)[:-6], {}, "body", "cut short"),
        (gzipped_zeros(MAX_CSV_BYTES), {}, "body", "inflates beyond 64 MiB"),
        (
            parquet_bytes(pd.DataFrame({"user": [1, 2], "group": ["a", "b"], "bought": [1, 0]})),
            {},
            "variant_column",
            "no column 'arm' in the file; its columns: user, group, bought",
        ),
        (csv_bytes("user,arm,bought", "1,a,1", "2,a,0"), {}, "variant_column", "only the variant"),
        (csv_bytes("user,arm,bought", "1,a,1", "1,b,0"), {}, "body", "no user is left"),
        (GOOD, {"control": "c"}, "control", "no variant 'c' in the file; its variants: a, b"),
        (GOOD, {"options": '{"alpha": 2}'}, "options.alpha", "strictly between 0 and 1"),
        (GOOD, {"options": "[1]"}, "options", "must be a JSON object"),
        (GOOD, {"delimiter": "x"}, "delimiter", "must be one of"),
        (GOOD, {"exposure_column": "note", "exposure": "a:x"}, "exposure", "variant 'b'"),
        (GOOD, {"sort": "x"}, "sort", "unknown field"),
    ],
    ids=[
        "missing-mapping",
        "unknown-column",
        "text-metric",
        "covariate-of-no-metric",
        "header-only",
        "empty-body",
        "latin-1",
        "semicolons",
        "truncated-gzip",
        "gzip-bomb",
        "parquet-other-schema",
        "one-variant",
        "every-user-in-both-arms",
        "unknown-control",
        "bad-option",
        "options-not-an-object",
        "unknown-delimiter",
        "exposure-of-a-variant-missing",
        "unknown-parameter",
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_the_rule(client, body, query, field, says):
    mapping = {key: value for key, value in {**SMALL, **query}.items() if value is not None}
    error = refused(client, body, **mapping)
    assert error["field"] == field and says in error["message"], error


def test_a_parquet_file_of_more_than_10_million_rows_is_refused_from_its_footer(client, tmp_path):
    bomb = tmp_path / "bomb.parquet"  # 10,000,001 rows in a few MB
    with duckdb.connect() as con:
        con.execute(
            "copy (select i % 1000 as user, if(i % 2 = 0, 'a', 'b') as arm, 1 as bought "
            f"from range({MAX_PARQUET_ROWS + 1}) t(i)) to '{bomb}' (format parquet)"
        )
    error = refused(client, bomb.read_bytes(), **SMALL)
    assert error["field"] == "body" and f"at most {MAX_PARQUET_ROWS}" in error["message"]


def test_a_semicolon_file_is_read_when_its_delimiter_is_given(client):
    result = analysed(client, GOOD.replace(b",", b";"), delimiter=";", **SMALL)
    assert result["data_quality"]["users"] == 3


def test_a_body_over_32_mib_is_a_413_declared_or_streamed(client):
    too_big = b"x" * (MAX_UPLOAD_BYTES + 1)
    error = refused(client, too_big, 413, **SMALL)
    assert error["field"] == "body" and str(MAX_UPLOAD_BYTES) in error["message"]
    streamed = client.post(
        PATH,
        query_string=SMALL,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input": io.BytesIO(too_big), "wsgi.input_terminated": True},
    )
    assert streamed.status_code == 413, streamed.get_data(as_text=True)


def test_the_function_imports_duckdb_only_when_a_file_arrives():
    """Cold start: the other routes never pay for DuckDB's import."""
    code = "import sys; sys.path.insert(0, '.'); import main; print('duckdb' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "functions" / "abtest",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == "False"
