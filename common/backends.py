"""The back-ends a function uses, opened on first use.

Opening a back-end imports its client library (google-cloud-bigquery alone costs seconds), so a
function builds ``Backends(config)`` at import time and pays for a back-end only when a request
first needs it. Instances are shared by the threads of one function instance.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from common.artifacts import open_artifact_store
from common.events.publishers import open_publisher
from common.warehouse import open_warehouse

if TYPE_CHECKING:
    from common.artifacts import ArtifactStore
    from common.config import Config
    from common.events.publishers import EventPublisher
    from common.warehouse import Warehouse


class Backends:
    def __init__(self, config: Config):
        self.config = config

    @cached_property
    def warehouse(self) -> Warehouse:
        return open_warehouse(self.config)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        return open_artifact_store(self.config)

    @cached_property
    def publisher(self) -> EventPublisher:
        return open_publisher(self.config)
