"""POST /ml/predict {"user_ids": [...]} against the generated warehouse: the users' rows of the
latest feature snapshot, read here with plain SQL, answered as the same rows sent as features."""

import duckdb
import pytest

from common.artifacts.local import LocalArtifactStore
from common.ml.features import CONVERSION
from common.ml.registry import Registry

FEATURES = "execkpi_marts.features_conversion"
LATEST = f"(select max(snapshot_date) from {FEATURES})"


@pytest.fixture(scope="module")
def snapshot(generated_warehouse):
    """The latest snapshot's date, ten of its users with their feature rows (by id), and a
    user of the data that the snapshot does not hold."""
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        ((day,),) = con.execute(f"select {LATEST}").fetchall()
        columns = ", ".join(("user_id", *CONVERSION.names))
        table = con.sql(
            f"select {columns} from {FEATURES} "
            f"where snapshot_date = {LATEST} order by user_id limit 10"
        ).to_arrow_table()
        ((absent,),) = con.execute(
            "select min(user_id) from execkpi_staging.stg_thelook__users where user_id not in "
            f"(select user_id from {FEATURES} where snapshot_date = {LATEST})"
        ).fetchall()
    rows = {row.pop("user_id"): row for row in table.to_pylist()}
    return day, rows, absent


@pytest.fixture
def client(function_client, champion_artifacts, generated_warehouse):
    return function_client(
        "model",
        EXECKPI_ARTIFACT_DIR=str(champion_artifacts),
        EXECKPI_DUCKDB_PATH=str(generated_warehouse),
    )


def test_known_and_unknown_users_are_scored_from_the_latest_snapshot(
    client, champion_artifacts, snapshot
):
    day, rows, absent = snapshot
    known = list(rows)[:4]
    never = 2**62
    asked = [known[2], never, known[0], absent, known[2], known[3]]

    response = client.post("/ml/predict", json={"user_ids": asked})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()

    answered = [known[2], known[0], known[3]]  # in the order asked, a repeated id once
    by_rows = client.post("/ml/predict", json={"rows": [rows[u] for u in answered]}).get_json()
    champion = Registry(LocalArtifactStore(champion_artifacts), CONVERSION.model).latest()
    assert body["version"] == by_rows["version"] == champion.version
    assert body["snapshot_date"] == day.isoformat()
    assert body["unknown_user_ids"] == [never, absent]
    assert [p["user_id"] for p in body["predictions"]] == answered
    assert body["base_value"] == by_rows["base_value"]
    for by_id, by_row in zip(body["predictions"], by_rows["predictions"], strict=True):
        assert by_id == {"user_id": by_id["user_id"], **by_row}


def test_only_unknown_users_is_an_answer_without_predictions(client, snapshot):
    _, _, absent = snapshot
    body = client.post("/ml/predict", json={"user_ids": [absent]}).get_json()
    assert body["predictions"] == [] and body["unknown_user_ids"] == [absent]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"user_ids": []}, "user_ids", "a list of 1 to 10000 user ids"),
        ({"user_ids": "1,2"}, "user_ids", "a list of 1 to 10000 user ids"),
        ({"user_ids": list(range(1, 10_002))}, "user_ids", "a list of 1 to 10000 user ids"),
        ({"user_ids": [1, "2"]}, "user_ids[1]", "whole number"),
        ({"user_ids": [1.5]}, "user_ids[0]", "whole number"),
        ({"user_ids": [True]}, "user_ids[0]", "whole number"),
        ({"user_ids": [0]}, "user_ids[0]", "whole number from 1"),
        ({"user_ids": [2**63]}, "user_ids[0]", "whole number from 1"),
        ({"user_ids": [1], "rows": []}, "rows", "unknown field"),
    ],
)
def test_malformed_user_ids_are_400s_naming_the_field(client, body, field, words):
    response = client.post("/ml/predict", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and words in error["message"]
