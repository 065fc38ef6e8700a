"""Every user of the latest feature snapshot scored by the champion, after each promotion.

One Parquet object per scoring run, created once and never rewritten:

    ml/scores/<model>/snapshot_on=<YYYY-MM-DD>/<model version>.parquet

with a row per user: ``SCORE_SCHEMA``. Decile 1 is the tenth of users with the highest scores
(ties by user id), as in the gains curve (``common.ml.curves``). The warehouse reads the objects
as the dbt source ``ml_scores``: a DuckDB build copies them into a table, BigQuery reads them
through an external table (infra/bigquery.tf). Named after the version, a run that is retried
finds its object written and scores nothing twice.

Users are read and scored ``CHUNK_ROWS`` at a time: memory holds one chunk's features, and an
id and a score per user.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common.artifacts.base import MUST_NOT_EXIST, ArtifactStore, PreconditionFailed
from common.ml.data import feature_frame
from common.ml.serving import Champion
from common.ml.snapshot import Snapshot

log = logging.getLogger(__name__)

SCORES_PREFIX = "ml/scores"
CHUNK_ROWS = 100_000
DECILES = 10
SCORE_SCHEMA = pa.schema(
    [
        pa.field("user_id", pa.int64()),
        pa.field("snapshot_date", pa.date32()),
        pa.field("score", pa.float64()),
        pa.field("decile", pa.int32()),
        pa.field("model_version", pa.string()),
        pa.field("scored_at", pa.timestamp("us", tz="UTC")),
    ]
)


def scores_key(model: str, snapshot: date, version: str) -> str:
    return f"{SCORES_PREFIX}/{model}/snapshot_on={snapshot.isoformat()}/{version}.parquet"


@dataclass(frozen=True)
class ScoringRun:
    key: str
    snapshot_date: str
    model_version: str
    users: int | None  # None: an earlier attempt wrote the object
    seconds: float

    def to_json(self) -> dict:
        return asdict(self)


def deciles(scores: np.ndarray, user_ids: np.ndarray) -> np.ndarray:
    """1 for the tenth of users with the highest scores, ..., 10 for the lowest."""
    order = np.lexsort((user_ids, -scores))
    result = np.empty(len(scores), np.int32)
    result[order] = np.arange(len(scores)) * DECILES // max(len(scores), 1) + 1
    return result


def score_snapshot(
    store: ArtifactStore,
    model: str,
    champion: Champion,
    snapshot: Snapshot,
    now: datetime,
    chunk_rows: int = CHUNK_ROWS,
) -> ScoringRun:
    started = time.perf_counter()
    key = scores_key(model, snapshot.day, champion.version)
    run = ScoringRun(key, snapshot.day.isoformat(), champion.version, None, 0.0)
    if store.exists(key):
        return run
    ids, scores = [], []
    for chunk in snapshot.chunks(chunk_rows):
        matrix = champion.encoder.transform(feature_frame(chunk, champion.features))
        ids.append(chunk.column(snapshot.user).to_numpy())
        scores.append(champion.model.predict(matrix).astype(np.float64))
    user_ids, score = np.concatenate(ids), np.concatenate(scores)
    rows = len(user_ids)
    table = pa.table(
        [
            user_ids,
            pa.repeat(pa.scalar(snapshot.day, pa.date32()), rows),
            score,
            deciles(score, user_ids),
            pa.repeat(pa.scalar(champion.version, pa.string()), rows),
            pa.repeat(pa.scalar(now, pa.timestamp("us", tz="UTC")), rows),
        ],
        schema=SCORE_SCHEMA,
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    try:
        store.put(
            key,
            buffer.getvalue(),
            content_type="application/vnd.apache.parquet",
            if_version=MUST_NOT_EXIST,
        )
    except PreconditionFailed:  # a concurrent attempt wrote it first
        return run
    seconds = round(time.perf_counter() - started, 3)
    log.info("scored %d users of %s with %s: %s", rows, snapshot.day, champion.version, key)
    return ScoringRun(key, run.snapshot_date, champion.version, rows, seconds)
