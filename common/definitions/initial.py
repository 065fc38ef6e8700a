"""The demo's initial definitions: the seed files of the dbt project (the experiments the
generator plants effects for), as definitions the store imports once (DefinitionStore.
import_initial, called by every build before it copies the store into the warehouse)."""

from __future__ import annotations

from pathlib import Path

from common.definitions.spec import DefinitionSpec, parse_definition
from common.experiments import SEED_EXPERIMENTS, read_csv, seed_definitions


def initial_specs(seeds: Path) -> tuple[DefinitionSpec, ...]:
    """The seed files' experiments; their description is the hypothesis."""
    hypotheses = {r["experiment_id"]: r["description"] for r in read_csv(seeds / SEED_EXPERIMENTS)}
    return tuple(
        parse_definition(
            {
                "experiment_id": d.experiment_id,
                "hypothesis": hypotheses[d.experiment_id],
                "variants": [
                    {"name": v, "weight": w} for v, w in zip(d.variants, d.weights, strict=True)
                ],
                "start_date": d.start_date.isoformat(),
                "end_date": None if d.end_date is None else d.end_date.isoformat(),
                "primary_metric": d.primary_metric,
            }
        )
        for d in seed_definitions(seeds)
    )
