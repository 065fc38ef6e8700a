"""The latest feature snapshot of the features mart: the users the model scores, read through
the warehouse with bound values (snapshot date, user ids, chunk bounds), never pasted into SQL.

Column names come from the feature spec, and a champion's features are checked against it
first: a card is a stored document, not code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING

from common.errors import Unavailable
from common.ml.features import Feature, FeatureSpec
from common.privacy.erasures import any_of

if TYPE_CHECKING:
    import pyarrow as pa

    from common.warehouse import Warehouse

_LABELS = {"component": "ml-score"}


class NoSnapshot(Unavailable):
    """The features mart has no rows yet: nobody can be scored by id."""

    code = "no_snapshot"


class Snapshot:
    """One snapshot date of ``spec.table`` in ``schema``, read with a model's features."""

    def __init__(
        self, warehouse: Warehouse, spec: FeatureSpec, schema: str, features: tuple[Feature, ...]
    ):
        if spec.time_column is None or spec.group_column is None:
            raise ValueError(f"{spec.table} has no snapshot dates or user ids to score by")
        unknown = sorted({f.name for f in features} - set(spec.names))
        if unknown:
            raise Unavailable(f"the model reads features the mart no longer has: {unknown}")
        self.warehouse, self.table = warehouse, f"{schema}.{spec.table}"
        self.user, self.time = spec.group_column, spec.time_column
        self.columns = ", ".join([self.user, *(f.name for f in features)])
        self.day = self._latest()

    def _latest(self) -> date:
        # Names come from the feature spec, never from a request.
        sql = f"select max({self.time}) as latest from {self.table}"  # noqa: S608
        latest = self.warehouse.query(sql, labels=_LABELS).table.column("latest")[0].as_py()
        if latest is None:
            raise NoSnapshot(f"{self.table} has no feature snapshot yet; build the data first")
        return latest

    def users(self, user_ids: Sequence[int]) -> pa.Table:
        """The rows of those users that the snapshot holds, in no particular order."""
        day = self.warehouse.placeholder("snapshot")
        sql = (
            f"select {self.columns} from {self.table} "  # noqa: S608
            f"where {self.time} = {day} and {any_of(self.warehouse, self.user, 'user_ids')}"
        )
        params = {"snapshot": self.day, "user_ids": list(user_ids)}
        return self.warehouse.query(sql, params, labels=_LABELS).table

    def chunks(self, rows: int) -> Iterator[pa.Table]:
        """Every row of the snapshot, ``rows`` at a time by ascending user id: a chunk starts
        after the last id of the one before, so no chunk rescans what came before it."""
        bind = self.warehouse.placeholder
        sql = (
            f"select {self.columns} from {self.table} "  # noqa: S608
            f"where {self.time} = {bind('snapshot')} and {self.user} > {bind('after')} "
            f"order by {self.user} limit {bind('rows')}"
        )
        after = -(2**63)
        while True:
            params = {"snapshot": self.day, "after": after, "rows": rows}
            chunk = self.warehouse.query(sql, params, labels=_LABELS).table
            if chunk.num_rows:
                yield chunk
            if chunk.num_rows < rows:
                return
            after = chunk.column(self.user)[-1].as_py()
