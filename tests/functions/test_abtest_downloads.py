"""An experiment's results as a file: GET /ab/experiments/<id>?format=csv|xlsx. The files read
back, with readers independent of the writers (Python's csv module with the decimal comma
parsed by hand, openpyxl for xlsxwriter's workbooks), as the JSON of POST /ab/analyze for the
same experiment; the experiment's JSON answer is unchanged."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from tests.functions import test_abtest
from tests.functions.test_abtest import BUILT_ON, error_of, unknown_experiment

# test_abtest's warehouse (its experiments built on BUILT_ON) and client, as fixtures here
warehouse, client = test_abtest.warehouse, test_abtest.client

REPO_ROOT = Path(__file__).resolve().parents[2]
ABTEST_MAIN = REPO_ROOT / "functions" / "abtest" / "main.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = b"\xef\xbb\xbf"
UNITS = {"conversion": "ratio", "revenue_per_user": "USD"}  # the default EXECKPI_CURRENCY
NUMBERS = (
    "n",
    "mean",
    "absolute_lift",
    "absolute_ci_lower",
    "absolute_ci_upper",
    "relative_lift",
    "relative_ci_lower",
    "relative_ci_upper",
    "ci_level",
    "p_value",
    "p_value_adjusted",
    "chance_to_beat_control",
)
DATES = ("start_date", "end_date", "as_of")


def expected_rows(experiment_id, client, locale="en-US"):
    """The rows the file must hold, as dicts, read off POST /ab/analyze's JSON (its decision
    worded in ``locale``, as the file's) and the experiment's own JSON: per metric the
    control, then each treatment."""
    body = {"experiment_id": experiment_id, "locale": locale}
    analysis = client.post("/ab/analyze", json=body).get_json()
    about = client.get(f"/ab/experiments/{experiment_id}").get_json()
    dates = {"start_date": about["start_date"], "end_date": about["end_date"], "as_of": BUILT_ON}
    decisions = {d["variant"]: d for d in analysis["decisions"]}
    rows = []
    for metric in dict.fromkeys(c["metric"] for c in analysis["comparisons"]):
        compared = [c for c in analysis["comparisons"] if c["metric"] == metric]
        first = {"metric": metric, "role": compared[0]["role"], "unit": UNITS[metric]}
        rows.append(
            {**first, "variant": analysis["control"], "control": True, **compared[0]["control"]}
        )
        for c in compared:
            rows.append(
                {
                    **first,
                    "variant": c["variant"],
                    "control": False,
                    **c["treatment"],
                    "absolute_lift": c["absolute"]["estimate"],
                    "absolute_ci_lower": c["absolute"]["ci"][0],
                    "absolute_ci_upper": c["absolute"]["ci"][1],
                    "relative_lift": c["relative"]["estimate"],
                    "relative_ci_lower": c["relative"]["ci"][0],
                    "relative_ci_upper": c["relative"]["ci"][1],
                    "ci_level": c["ci_level"],
                    "p_value": c["p_value"],
                    "p_value_adjusted": c["p_value_adjusted"],
                    "significant": c["significant"],
                    "chance_to_beat_control": c["bayesian"]["chance_to_beat_control"],
                    "verdict": decisions[c["variant"]]["verdict"],
                    "decision": decisions[c["variant"]]["summary"],
                }
            )
    return [{**row, **dates} for row in rows]


def german_cell(text, column):
    """A cell as German Excel reads it: DD.MM.YYYY dates, decimal comma, no grouping."""
    if text == "":
        return None
    if column in DATES:
        return datetime.strptime(text, "%d.%m.%Y").date().isoformat()
    if column in ("control", "significant"):  # flags are spelt as in JSON in every locale
        return {"true": True, "false": False}[text]
    if column in NUMBERS:
        assert "." not in text and "e" not in text.lower(), f"{column}: {text!r}"
        return float(text.replace(",", "."))
    return text


def as_dicts(header, rows, read):
    return [{h: read(t, h) for h, t in zip(header, row, strict=True)} for row in rows]


def filled(row):
    return {k: v for k, v in row.items() if v is not None}


@pytest.mark.parametrize("experiment_id", ["broken_split", "three_arms", "ab_even"])
def test_a_german_csv_reads_back_as_the_analysis(client, warehouse, experiment_id):
    expected = expected_rows(experiment_id, client, "de-DE")
    response = client.get(
        f"/ab/experiments/{experiment_id}", query_string={"format": "csv", "locale": "de-DE"}
    )
    assert (response.status_code, response.mimetype) == (200, "text/csv")
    body = response.get_data()
    assert body.startswith(BOM), "without a byte order mark Excel reads the file as cp1252"
    header, *rows = csv.reader(io.StringIO(body[3:].decode(), newline=""), delimiter=";")
    read = as_dicts(header, rows, german_cell)
    # Every cell the JSON has, and no other (a control row has no lift, a dead arm no mean).
    assert [filled(r) for r in read] == [filled(r) for r in expected]
    assert header == list(expected[1])  # a treatment's row: every column, in order


def test_the_german_csv_spells_numbers_and_dates_the_german_way(client, warehouse):
    query = {"format": "csv", "locale": "de-DE"}
    text = client.get("/ab/experiments/broken_split", query_string=query).get_data().decode()
    treatment = next(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert treatment["mean"] == "20,922933860281297"  # 180000 / 8603
    assert (treatment["start_date"], treatment["as_of"]) == ("01.10.2026", "15.10.2026")
    # a treatment's decision in German words, as POST /ab/analyze {locale: de-DE} writes it
    [decision] = [r["decision"] for r in csv.DictReader(io.StringIO(text[1:]), delimiter=";")][1:2]
    assert decision.startswith("treatment nicht ausrollen. Die Aufteilung des Traffics ")


def test_an_english_csv_keeps_the_machine_format(client, warehouse):
    expected = expected_rows("broken_split", client)
    text = client.get("/ab/experiments/broken_split?format=csv").get_data().decode()
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [float(r["mean"]) for r in rows] == [r["mean"] for r in expected]
    assert [r["p_value"] for r in rows][1] == repr(expected[1]["p_value"])
    assert rows[0]["as_of"] == BUILT_ON


@pytest.mark.parametrize(("locale", "date_format"), [("de-DE", "dd.mm.yyyy"), ("en-US", None)])
def test_an_xlsx_reads_back_as_the_analysis(client, warehouse, locale, date_format):
    expected = expected_rows("broken_split", client, locale)
    query = {"format": "xlsx", "locale": locale}
    response = client.get("/ab/experiments/broken_split", query_string=query)
    assert (response.status_code, response.mimetype) == (200, XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()))["broken_split"]
    header, *cells = ([c for c in row] for row in sheet.iter_rows())
    names = [c.value for c in header]
    assert names == list(expected[1]) and len(cells) == len(expected) == 4
    for row, want in zip(cells, expected, strict=True):
        cell = dict(zip(names, row, strict=True))
        for name in NUMBERS:
            if want.get(name) is None:
                assert cell[name].value is None, name
            else:  # numbers, not text; xlsxwriter keeps 16 significant digits
                assert cell[name].data_type == "n", name
                assert cell[name].value == pytest.approx(want[name], rel=1e-15), name
        assert cell["as_of"].is_date and cell["as_of"].value.date().isoformat() == BUILT_ON
        assert cell["as_of"].number_format == (date_format or "yyyy-mm-dd")
        texts = ("metric", "unit", "variant", "verdict", "decision")
        assert {n: cell[n].value for n in texts} == {n: want.get(n) for n in texts}
        assert cell["control"].value is want["control"]


def test_files_are_named_after_the_experiment_and_the_day_of_its_data(client, warehouse):
    for answer_format in ("csv", "xlsx"):
        response = client.get(f"/ab/experiments/three_arms?format={answer_format}")
        disposition = response.headers["Content-Disposition"]
        assert disposition == f'attachment; filename="three_arms_{BUILT_ON}.{answer_format}"'
    assert "Content-Disposition" not in client.get("/ab/experiments/three_arms").headers


def test_accept_and_accept_language_choose_the_file(client, warehouse):
    headers = {"Accept": "text/csv", "Accept-Language": "de-AT, de;q=0.9"}
    response = client.get("/ab/experiments/ab_even", headers=headers)
    assert response.mimetype == "text/csv" and response.get_data().startswith(BOM)
    assert "Accept-Language" in response.headers["Vary"]


def test_the_json_answer_is_unchanged(client, warehouse):
    plain = client.get("/ab/experiments/ab_even")
    as_json = client.get("/ab/experiments/ab_even?format=json&locale=de-DE")
    assert plain.mimetype == as_json.mimetype == "application/json"
    assert plain.get_json() == as_json.get_json()
    assert set(plain.get_json()) == {
        "experiment_id",
        "status",
        "as_of",
        "as_of_source",
        "start_date",
        "end_date",
        "primary_metric",
        "other_metrics",
        "variants",
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "CSV"}, "format"),
        ({"format": "csv", "locale": "fr-FR"}, "locale"),
        ({"locale": "de"}, "locale"),
        ({"format": "csv", "alpha": "0.1"}, "alpha"),
    ],
)
def test_bad_format_locale_or_parameter_is_400_naming_it(client, warehouse, query, field):
    assert error_of(client.get("/ab/experiments/ab_even", query_string=query))["field"] == field


def test_an_unknown_experiment_is_404_in_every_format(client, warehouse):
    for answer_format in ("csv", "xlsx"):
        unknown_experiment(client.get(f"/ab/experiments/nope?format={answer_format}"))


def test_abtest_imports_neither_babel_nor_xlsxwriter_at_start(execkpi_env):
    """Cold start: most requests want JSON; the writers load on the first download only."""
    code = f"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("main", {str(ABTEST_MAIN)!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(m for m in ("babel", "xlsxwriter") if m in sys.modules)))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-1]) == []


# --- the experiment list as a file (GET /ab/experiments?format=) ------------------------------


def expected_list_rows(listing):
    """One row per experiment and variant, read off the list's JSON answer."""
    return [
        {
            "experiment_id": e["experiment_id"],
            "status": e["status"],
            "start_date": e["start_date"],
            "end_date": e["end_date"],
            "primary_metric": e["primary_metric"],
            "other_metrics": ", ".join(e["other_metrics"]),
            "variant": v["name"],
            "control": v["control"],
            "weight": v["weight"],
            "as_of": listing["as_of"],
        }
        for e in listing["experiments"]
        for v in e["variants"]
    ]


def german_list_cell(text, column):
    if column == "weight" and text:
        assert "." not in text, text
        return float(text.replace(",", "."))
    return german_cell(text, column)


@pytest.mark.parametrize("status", [None, "finished", "running"])
def test_the_experiment_list_as_a_german_csv_reads_back_as_its_json(client, warehouse, status):
    query = {"status": status} if status else {}
    listing = client.get("/ab/experiments", query_string=query).get_json()
    expected = expected_list_rows(listing)
    assert expected, "the test warehouse has experiments of every status asked for"
    response = client.get(
        "/ab/experiments", query_string={**query, "format": "csv", "locale": "de-DE"}
    )
    assert (response.status_code, response.mimetype) == (200, "text/csv")
    stem = "_".join(["experiments", *([status] if status else []), BUILT_ON])
    assert response.headers["Content-Disposition"] == f'attachment; filename="{stem}.csv"'
    body = response.get_data()
    assert body.startswith(BOM)
    header, *rows = csv.reader(io.StringIO(body[3:].decode(), newline=""), delimiter=";")
    assert header == list(expected[0])
    assert as_dicts(header, rows, german_list_cell) == expected
    assert rows[0][header.index("as_of")] == datetime.fromisoformat(BUILT_ON).strftime("%d.%m.%Y")


def test_the_experiment_list_as_an_xlsx_reads_back_as_its_json(client, warehouse):
    expected = expected_list_rows(client.get("/ab/experiments").get_json())
    response = client.get("/ab/experiments?format=xlsx&locale=en-US")
    assert (response.status_code, response.mimetype) == (200, XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()))["experiments"]
    header, *cells = ([c for c in row] for row in sheet.iter_rows())
    names = [c.value for c in header]
    assert names == list(expected[0]) and len(cells) == len(expected)
    for row, want in zip(cells, expected, strict=True):
        cell = dict(zip(names, row, strict=True))
        assert cell["weight"].data_type == "n" and cell["weight"].value == want["weight"]
        assert cell["control"].value is want["control"]
        assert cell["as_of"].is_date and cell["as_of"].value.date().isoformat() == want["as_of"]
        texts = ("experiment_id", "status", "variant", "other_metrics")
        assert {n: cell[n].value for n in texts} == {n: want[n] for n in texts}


def test_the_experiment_lists_json_is_unchanged_by_format_json(client, warehouse):
    plain = client.get("/ab/experiments")
    as_json = client.get("/ab/experiments?format=json&locale=de-DE")
    assert plain.mimetype == as_json.mimetype == "application/json"
    assert plain.get_json() == as_json.get_json()
    assert "Content-Disposition" not in plain.headers


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "locale": "fr-FR"}, "locale"),
        ({"format": "csv", "status": "done"}, "status"),
        ({"format": "csv", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_list_format_locale_or_parameter_is_400_naming_it(client, warehouse, query, field):
    assert error_of(client.get("/ab/experiments", query_string=query))["field"] == field
