"""Train the conversion model from the command line, as the train function does.

Reads the features mart from the configured warehouse (EXECKPI_* settings: the local DuckDB file
by default), writes the version to the configured artifact store and promotes it if it passes
the gates. Prints the outcome; no event is published.

    python -m scripts.local.train_model [--run-id ID] [--duckdb PATH] [--artifacts DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from datetime import UTC, datetime

from common.artifacts import open_artifact_store
from common.config import load_config
from common.ml.data import load_features
from common.ml.features import CONVERSION
from common.ml.fitting import Settings
from common.ml.registry import Registry
from common.ml.sampling import Caps
from common.ml.training_run import train_run
from common.runs import new_run_id
from common.warehouse import open_warehouse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-id", default=None, help="default: a new one (a repeat trains once)")
    parser.add_argument("--duckdb", default=None, help="overrides EXECKPI_DUCKDB_PATH")
    parser.add_argument("--artifacts", default=None, help="overrides EXECKPI_ARTIFACT_DIR")
    args = parser.parse_args(argv)
    overrides = {"EXECKPI_DUCKDB_PATH": args.duckdb, "EXECKPI_ARTIFACT_DIR": args.artifacts}
    config = load_config({**os.environ, **{k: v for k, v in overrides.items() if v}})
    logging.basicConfig(level=config.log_level.upper(), format="%(levelname)s %(message)s")

    warehouse = open_warehouse(config)
    outcome = train_run(
        Registry(open_artifact_store(config), CONVERSION.model),
        lambda: load_features(warehouse, CONVERSION, config.marts_schema, Caps.from_config(config)),
        CONVERSION,
        Settings.from_config(config),
        args.run_id or new_run_id("cli", datetime.now(UTC)),
        {"source": "scripts.local.train_model"},
    )
    print(json.dumps(outcome, indent=2))


if __name__ == "__main__":
    main()
