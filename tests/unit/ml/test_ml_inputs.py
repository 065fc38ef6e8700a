"""From columns to the matrix, and prediction requests refused with the field they got wrong."""

import numpy as np
import pytest

from common.ml.encoding import Categorical, Encoder, Levels
from common.ml.features import Feature
from common.ml.prediction_request import MAX_ROWS, parse_rows
from common.validation import InvalidInput
from tests.support.ml_synthetic import SPEC

ENCODER = Encoder(
    features=SPEC.names,
    numeric=("visits", "cart_adds", "recency"),
    categorical=(Levels("channel", ("Search", "Email"), has_other=True),),
)
ROW = {"visits": 3, "cart_adds": 1.5, "recency": None, "channel": "Email"}


def test_fit_keeps_frequent_levels_and_folds_the_rest_into_other():
    codes = np.array([0] * 60 + [1] * 200 + [2] * 5 + [-1] * 3, dtype=np.int32)
    frame = {
        "visits": np.zeros(len(codes), np.float32),
        "cart_adds": np.zeros(len(codes), np.float32),
        "recency": np.zeros(len(codes), np.float32),
        "channel": Categorical(codes, ("Email", "Search", "Rare")),
    }
    encoder = Encoder.fit(SPEC, frame)
    assert encoder.categorical == (Levels("channel", ("Search", "Email"), has_other=True),)
    assert encoder.columns == ("visits", "cart_adds", "recency", "channel=Search", "channel=Email")
    assert encoder.groups.tolist() == [0, 1, 2, 3, 3]
    assert Encoder.from_json(encoder.to_json()) == encoder
    # Fitted on a subset of rows: only what those rows hold counts.
    assert Encoder.fit(SPEC, frame, np.arange(60)).categorical[0].levels == ("Email",)


def test_transform_one_hot_encodes_and_keeps_nulls():
    frame = parse_rows(
        {"rows": [ROW, {**ROW, "channel": "Display", "recency": 7}]}, SPEC.features, ENCODER
    )
    matrix = ENCODER.transform(frame)
    assert matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[0], [3, 1.5, np.nan, 0, 1])
    np.testing.assert_array_equal(matrix[1], [3, 1.5, 7, 0, 0])  # unseen level: "other"
    np.testing.assert_array_equal(ENCODER.transform(frame, np.array([1])), matrix[1:])


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "rows", "list"),
        ({"rows": []}, "rows", "list"),
        ({"rows": [ROW] * (MAX_ROWS + 1)}, "rows", "10000"),
        ({"rows": [ROW], "model": "x"}, "model", "unknown field"),
        ({"rows": [ROW, 5]}, "rows[1]", "object"),
        ({"rows": [{k: v for k, v in ROW.items() if k != "visits"}]}, "rows[0].visits", "missing"),
        ({"rows": [ROW, {**ROW, "age": 3}]}, "rows[1].age", "unknown feature(s): age"),
        ({"rows": [{**ROW, "visits": True}]}, "rows[0].visits", "number"),
        ({"rows": [{**ROW, "visits": "3"}]}, "rows[0].visits", "number"),
        ({"rows": [{**ROW, "visits": None}]}, "rows[0].visits", "number"),
        ({"rows": [{**ROW, "visits": 1e39}]}, "rows[0].visits", "number"),
        ({"rows": [{**ROW, "recency": "x"}]}, "rows[0].recency", "number or null"),
        ({"rows": [{**ROW, "channel": 1}]}, "rows[0].channel", "string"),
    ],
)
def test_bad_payloads_name_the_field(body, field, words):
    with pytest.raises(InvalidInput) as caught:
        parse_rows(body, SPEC.features, ENCODER)
    assert caught.value.field == field
    assert words in caught.value.message


def test_unseen_category_needs_a_learned_other_level():
    closed = Encoder(SPEC.names, ENCODER.numeric, (Levels("channel", ("Search", "Email"), False),))
    with pytest.raises(InvalidInput) as caught:
        parse_rows({"rows": [{**ROW, "channel": "Display"}]}, SPEC.features, closed)
    assert caught.value.field == "rows[0].channel"
    assert "Search, Email" in caught.value.message


RANGED = (
    Feature("age", "numeric", "years", minimum=0, maximum=120),
    Feature("orders", "numeric", "orders so far", nullable=True, minimum=0),
    Feature("balance", "numeric", "credit left", maximum=1000.5),
)
RANGED_ENCODER = Encoder(tuple(f.name for f in RANGED), ("age", "orders", "balance"), ())


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"age": 120.01}, "rows[0].age", "must be from 0 to 120"),
        ({"age": -1e-9}, "rows[0].age", "must be from 0 to 120"),
        ({"orders": -1}, "rows[0].orders", "must be at least 0"),
        ({"balance": 1001}, "rows[0].balance", "must be at most 1000.5"),
    ],
)
def test_values_outside_the_cards_ranges_are_refused(change, field, rule):
    row = {"age": 30, "orders": None, "balance": -5.0, **change}
    with pytest.raises(InvalidInput) as caught:
        parse_rows({"rows": [row]}, RANGED, RANGED_ENCODER)
    assert caught.value.field == field and caught.value.message.startswith(rule)


def test_the_ends_of_a_range_are_inside_it():
    rows = [{"age": 0, "orders": 0, "balance": 1000.5}, {"age": 120, "orders": None, "balance": -9}]
    frame = parse_rows({"rows": rows}, RANGED, RANGED_ENCODER)
    assert frame["age"].tolist() == [0, 120]
