"""ingest: thelook tables' rows from outside, checked and kept exactly once.

GET  /ingest           the tables and their contracts (columns, types, required, vocabularies)
GET  /ingest/<table>   one table's contract
POST /ingest/<table>   one batch: {"rows": [...]} (application/json, 1-10,000 rows), a CSV file
                       (text/csv) or a Parquet file (application/vnd.apache.parquet); CSV and
                       JSON may be gzipped. Answers {batch_id, table, accepted, duplicates,
                       rejected, error_count, errors, object, raw, rejected_rows}; the same
                       bytes again answer the same and change nothing.

Tables: events, orders, order_items, users, products. Bodies up to 32 MiB (Cloud Run's request
limit). How a batch is kept: common/ingest/batches.py.
"""

import functools
import io

import flask
import functions_framework

from common.backends import start_function
from common.errors import NotFound
from common.http import Router, body_bytes
from common.ingest.batches import Ingestor, Upload
from common.ingest.contracts import CONTRACTS, TABLES
from common.validation import InvalidInput

CONFIG, BACKENDS = start_function("ingest")
router = Router(CONFIG, prefix="/ingest", audit_as="ingest")
MEDIA_TYPES = {
    "application/json": "json",
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
}


@functools.cache
def ingestor() -> Ingestor:
    return Ingestor(BACKENDS.artifacts, BACKENDS.publisher)


@router.route("/")
def contracts(request: flask.Request) -> dict:
    return {"tables": [CONTRACTS[name].describe() for name in TABLES]}


def known_table(table: str) -> str:
    if table not in CONTRACTS:
        raise NotFound(f"no table {table!r}", field="table", known=TABLES)
    return table


@router.route("/<table>")
def contract(request: flask.Request, table: str) -> dict:
    return CONTRACTS[known_table(table)].describe()


@router.route("/<table>", methods=("POST",))
def ingest_batch(request: flask.Request, table: str) -> dict:
    known_table(table)
    fmt = MEDIA_TYPES.get(request.mimetype)
    if fmt is None:
        raise InvalidInput("Content-Type", f"must be one of {', '.join(MEDIA_TYPES)}")
    body = body_bytes(request)
    if not body:
        raise InvalidInput("body", "is empty")
    gzipped = request.headers.get("Content-Encoding", "") == "gzip"
    return ingestor().ingest(Upload(table, fmt, io.BytesIO(body), gzipped))


@functions_framework.http
def ingest(request: flask.Request) -> flask.Response:
    return router.dispatch(request)
