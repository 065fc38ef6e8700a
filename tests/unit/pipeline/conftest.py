"""The artifact store the build claims and the run ledger are tested on."""

import pytest

from common.artifacts.local import LocalArtifactStore


@pytest.fixture
def store(tmp_path):
    return LocalArtifactStore(tmp_path / "artifacts")
