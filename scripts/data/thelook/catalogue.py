"""The real product catalogue and distribution centres shipped in ``reference/``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

from scripts.data.thelook.calibration import DEPARTMENT_BY_GENDER
from scripts.data.thelook.columns import pick_within
from scripts.data.thelook.schema import GENDERS, SCHEMAS

REFERENCE = Path(__file__).resolve().parent / "reference"


def _read(name: str, table: str) -> pa.Table:
    schema = SCHEMAS[table]
    options = pv.ConvertOptions(
        column_types=dict(zip(schema.names, schema.types, strict=True)),
        strings_can_be_null=True,  # BigQuery exports write NULL as an empty field
    )
    rows = pv.read_csv(REFERENCE / name, convert_options=options)
    return rows.select(schema.names).sort_by("id")


@dataclass(frozen=True)
class Catalogue:
    products: pa.Table  # sorted by id; a "product index" is a row number in it
    distribution_centers: pa.Table
    by_gender: tuple[np.ndarray, ...]  # product indices of each gender's department

    def draw(self, rng: np.random.Generator, gender: np.ndarray) -> np.ndarray:
        """A product of the matching department for each gender code (flat popularity)."""
        return pick_within(rng, self.by_gender, gender)

    def draw_any(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(0, self.products.num_rows, n)


@cache
def load_catalogue() -> Catalogue:
    products = _read("products.csv.gz", "products")
    department = products["department"].to_numpy()
    by_gender = tuple(np.flatnonzero(department == DEPARTMENT_BY_GENDER[g]) for g in GENDERS)
    return Catalogue(products, _read("distribution_centers.csv", "distribution_centers"), by_gender)
