"""The back-ends a function uses, opened on first use.

Opening a back-end imports its client library (google-cloud-bigquery alone costs seconds), so a
function builds ``Backends(config)`` at import time and pays for a back-end only when a request
first needs it. Instances are shared by the threads of one function instance.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from common.artifacts import open_artifact_store
from common.config import Config, load_config
from common.edge import install_edge
from common.events.consumer import Outcome, consume
from common.events.publishers import open_publisher
from common.logs import setup_logging
from common.warehouse import open_warehouse

if TYPE_CHECKING:
    from common.artifacts import ArtifactStore
    from common.events.envelope import Event
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

    def consume(
        self, cloud_event: Any, consumer: str, handler: Callable[[Event], dict[str, Any] | None]
    ) -> Outcome:
        """Hand a delivered event to ``handler`` as at-least-once delivery demands
        (``common.events.consumer``), with this function's artifact store and event max age."""
        max_age = timedelta(seconds=self.config.event_max_age_seconds)
        return consume(
            cloud_event, consumer=consumer, handler=handler, store=self.artifacts, max_age=max_age
        )


def start_function(name: str) -> tuple[Config, Backends]:
    """What every function does at import: read and check its settings, log as ``name`` in
    Cloud Logging's format, answer ``GET /healthz`` and Flask's own errors in the JSON error
    shape (``common.edge``), and get its back-ends ready to open on first use."""
    config = load_config()
    setup_logging(name, config.log_level, config.gcp_project)
    install_edge(name)
    return config, Backends(config)
