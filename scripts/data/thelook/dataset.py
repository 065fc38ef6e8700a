"""Generate thelook eCommerce's seven tables as Parquet, chunk by chunk of users.

Chunks are simulated one after the other, each from its own random stream
(``SeedSequence([seed, chunk])``), and written as ``<table>/part-NNNNN.parquet``; ids continue
from the previous chunk. The same (seed, users, as_of, years) gives byte-identical files.
The planted experiment effects are described in ``scripts.data.thelook.experiments``.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from common.experiments import ExperimentDefinition
from scripts.data.thelook.catalogue import Catalogue, load_catalogue
from scripts.data.thelook.events import build_events, page_uris
from scripts.data.thelook.experiments import SEGMENT_STREAM, load_experiments, plant_effects
from scripts.data.thelook.funnel import walk
from scripts.data.thelook.orders import build_orders
from scripts.data.thelook.people import build_users, visitors
from scripts.data.thelook.schema import SCHEMAS, TIMESTAMP
from scripts.data.thelook.sessions import (
    Sessions,
    anonymous_count,
    anonymous_sessions,
    signed_in_sessions,
)
from scripts.data.thelook.timeline import Timeline

GENERATOR_VERSION = "1.0.0"
CHUNK_USERS = 25_000
# Order items per user at the defaults (as_of 2026-11-01, 3 years), measured at 100k users:
# used to pick a user count for a target number of order items.
ITEMS_PER_USER = 1.555
DEFAULT_AS_OF = date(2026, 11, 1)
# Text with a value per row or per session: a Parquet dictionary would not pay for itself.
UNIQUE_TEXT = {"email", "street_address", "user_geom", "session_id", "ip_address"}


@dataclass(frozen=True)
class Run:
    """What every chunk shares."""

    seed: int
    timeline: Timeline
    catalogue: Catalogue
    uris: pa.Array
    experiments: tuple[ExperimentDefinition, ...]


def users_for_items(order_items: int) -> int:
    return math.ceil(order_items / ITEMS_PER_USER)


def build_chunk(
    run: Run, index: int, first_user: int, n_users: int, first_id: Mapping[str, int]
) -> dict[str, pa.Table]:
    """All user-dependent tables for users first_user .. first_user + n_users - 1."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([run.seed, index])))
    users = build_users(rng, first_user, n_users, run.timeline)
    signed_in = signed_in_sessions(rng, users, run.timeline)
    segment_rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([run.seed, index, SEGMENT_STREAM]))
    )
    countries = users.table.column("country").to_numpy(zero_copy_only=False)
    signed_in = plant_effects(
        rng, signed_in, users.ids, run.experiments, countries=countries, segment_rng=segment_rng
    )
    anonymous = anonymous_sessions(rng, anonymous_count(len(signed_in)), run.timeline)
    sessions = Sessions.concat(signed_in, anonymous)
    who = visitors(rng, users, sessions.user)
    funnel = walk(rng, sessions, who.gender, run.catalogue)
    return {
        "users": users.table,
        **build_orders(rng, funnel, users, run.catalogue, run.timeline, first_id),
        "events": build_events(rng, funnel, who, run.uris, first_id["events"]),
    }


def _parquet_options(schema: pa.Schema) -> dict:
    """Encodings that keep writing cheap: delta-encoded integers and times, dictionaries for
    repetitive values only, statistics (for pruning) on integers and times only."""
    integers = [f.name for f in schema if pa.types.is_integer(f.type) or f.type == TIMESTAMP]
    return {
        "compression": "zstd",
        "store_schema": False,  # so dictionary-encoded text reads back as plain strings
        "use_dictionary": [n for n in schema.names if n not in integers and n not in UNIQUE_TEXT],
        "column_encoding": dict.fromkeys(integers, "DELTA_BINARY_PACKED"),
        "write_statistics": integers,
    }


def _write(tables: Mapping[str, pa.Table], out: Path, part: int) -> None:
    for name, rows in tables.items():
        path = out / name / f"part-{part:05d}.parquet"
        pq.write_table(rows, path, **_parquet_options(SCHEMAS[name]))


def _manifest(out: Path, **fields: object) -> None:
    manifest = {"generator_version": GENERATOR_VERSION, **fields}
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def generate(
    out_dir: str | Path,
    *,
    users: int,
    seed: int = 42,
    as_of: date = DEFAULT_AS_OF,
    years: int = 3,
    progress: bool = True,
) -> dict[str, int]:
    """Write all seven tables and ``_manifest.json`` under ``out_dir``; return row counts."""
    if users < 1 or years < 1:
        raise ValueError("need at least one user and one year")
    out = Path(out_dir)
    for name in SCHEMAS:
        shutil.rmtree(out / name, ignore_errors=True)  # no stale parts from a bigger run
        (out / name).mkdir(parents=True)
    catalogue = load_catalogue()
    timeline = Timeline.ending(as_of, years)
    run = Run(seed, timeline, catalogue, page_uris(catalogue), load_experiments())
    static = {
        "products": catalogue.products,
        "distribution_centers": catalogue.distribution_centers,
    }
    _write(static, out, 0)
    counts = {name: static[name].num_rows if name in static else 0 for name in SCHEMAS}

    # Chunk i is written in a second thread while chunk i + 1 is built: at most two in memory.
    bar = tqdm(total=users, unit="user", disable=None if progress else True)
    with bar, ThreadPoolExecutor(max_workers=1) as writer:
        written = writer.submit(lambda: None)
        for index, first_user in enumerate(range(0, users, CHUNK_USERS)):
            n_users = min(CHUNK_USERS, users - first_user)
            first_id = {name: rows + 1 for name, rows in counts.items()}
            tables = build_chunk(run, index, first_user + 1, n_users, first_id)
            for name, rows in tables.items():
                counts[name] += rows.num_rows
            written.result()
            written = writer.submit(_write, tables, out, index)
            bar.update(n_users)
        written.result()
    _manifest(out, seed=seed, users=users, as_of=as_of.isoformat(), years=years, row_counts=counts)
    return counts
