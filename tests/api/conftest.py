"""The API tests send worked examples to the functions: the model's need its champion."""

from tests.functions.conftest import champion_artifacts  # noqa: F401  (a fixture, shared)
