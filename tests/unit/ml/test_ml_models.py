"""Stored models: XGBoost's own UBJSON and a JSON document, never pickle; a round trip keeps
predictions and explanations exactly."""

import json

import numpy as np
import pytest

from common.ml.candidates import LOGISTIC_REGRESSION, RANDOM_FOREST, XGBOOST
from common.ml.encoding import Encoder
from common.ml.models import file_name, load_model
from tests.support.ml_synthetic import SPEC, dataset


@pytest.fixture(scope="module")
def data():
    d = dataset(users=200, snapshots=4)
    return d.label, Encoder.fit(SPEC, d.frame).transform(d.frame)


@pytest.mark.parametrize(
    "candidate", [LOGISTIC_REGRESSION, RANDOM_FOREST, XGBOOST], ids=lambda c: c.name
)
def test_round_trip_keeps_predictions_and_explanations(data, candidate):
    y, x = data
    model = candidate.fit(x, y).model
    stored = model.to_bytes()
    assert not stored.startswith(b"\x80"), "pickle protocol header"
    if model.file_name.endswith(".json"):
        assert json.loads(stored)["format"] == "execkpi-logistic-v1"
    else:
        assert stored.startswith(b"{")  # UBJSON object
    loaded = load_model(model.kind, stored)
    assert (loaded.kind, loaded.file_name) == (model.kind, file_name(model.kind))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.contributions(x), model.contributions(x))


def test_unknown_kinds_and_foreign_documents_are_refused():
    with pytest.raises(ValueError, match="unknown model kind"):
        load_model("pickle", b"\x80\x04")
    with pytest.raises(ValueError, match="not an execkpi"):
        load_model("logistic_regression", b'{"coef": [1.0]}')
