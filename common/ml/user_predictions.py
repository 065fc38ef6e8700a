"""Predictions by user id: ``{"user_ids": [...]}`` scored from the latest feature snapshot.

A caller knows its users' ids, not their traffic shares: the features are the snapshot's rows
of those users. Ids the snapshot does not hold (unknown, signed up after it, erased) are listed
in ``unknown_user_ids``; the others are answered as row predictions are, each with its id, in
the order asked (a repeated id is answered once).
"""

from __future__ import annotations

from typing import Any

from common.ml.data import feature_frame
from common.ml.prediction_request import MAX_ROWS
from common.ml.serving import Champion
from common.ml.snapshot import Snapshot
from common.privacy.erasures import MAX_USER_ID
from common.validation import InvalidInput, integer, known_fields

USER_IDS = "user_ids"


def parse_user_ids(body: dict[str, Any]) -> list[int]:
    ids = known_fields(body, "", (USER_IDS,)).get(USER_IDS)
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_ROWS:
        raise InvalidInput(USER_IDS, f"must be a list of 1 to {MAX_ROWS} user ids")
    for i, value in enumerate(ids):
        integer(value, f"{USER_IDS}[{i}]", 1, MAX_USER_ID)
    return list(dict.fromkeys(ids))


def predict_users(champion: Champion, snapshot: Snapshot, user_ids: list[int]) -> dict[str, Any]:
    import pyarrow as pa  # here: only a prediction by id pays for the import

    table = snapshot.users(user_ids)
    row_of = {user: row for row, user in enumerate(table.column(snapshot.user).to_pylist())}
    found = [user for user in user_ids if user in row_of]
    if found:
        rows = table.take(pa.array([row_of[user] for user in found], pa.int64()))
        answer = champion.predict(feature_frame(rows, champion.features))
    else:
        answer = champion.answer(None, [])
    predictions = zip(found, answer["predictions"], strict=True)
    return {
        **answer,
        "predictions": [{"user_id": user, **prediction} for user, prediction in predictions],
        "snapshot_date": snapshot.day.isoformat(),
        "unknown_user_ids": [user for user in user_ids if user not in row_of],
    }
