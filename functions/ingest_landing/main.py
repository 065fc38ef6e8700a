"""ingest_landing: files landed in the landing bucket, ingested like POST /ingest/<table>.

Triggered by the bucket's object-finalized events (a GCS notification pushed through Pub/Sub,
or Eventarc's storage CloudEvent). An object ``<table>/<anything>.{csv,csv.gz,json,json.gz,
parquet}`` becomes one batch (the same contract, curated Parquet and data-ingested event as
the ingest function; the file's checksum is the batch id, so a file landed twice changes
nothing). A file that can never be ingested is recorded under ingest/rejected_files/ and its
event acknowledged; a failing store or bus raises, so the event comes again.
How: common/ingest/landing.py. Locally, scripts/local/landing.py watches .local/landing/.
"""

import functools
import logging

import functions_framework
from cloudevents.http import CloudEvent

from common.backends import start_function
from common.ingest.batches import Ingestor
from common.ingest.landing import LandingIntake, landed_object
from common.ingest.landing_store import open_landing_store

CONFIG, BACKENDS = start_function("ingest_landing")
log = logging.getLogger(__name__)


@functools.cache
def intake() -> LandingIntake:
    store = BACKENDS.artifacts
    return LandingIntake(open_landing_store(CONFIG), store, Ingestor(store, BACKENDS.publisher))


@functions_framework.cloud_event
def ingest_landing(cloud_event: CloudEvent) -> None:
    landed = landed_object(cloud_event)
    if landed is None:
        log.info("ignored %s: not an object finalisation", cloud_event["type"])
        return
    outcome = intake().take(landed)
    fields = {"object": landed.name, **{k: v for k, v in outcome.items() if k != "errors"}}
    if "rule" in outcome:  # a rejected-file record: a warning, for log-based alerts
        log.warning(
            "rejected %s: %s %s",
            landed.name,
            outcome["field"],
            outcome["rule"],
            extra={"fields": fields},
        )
    else:
        log.info("landed %s", landed.name, extra={"fields": fields})
