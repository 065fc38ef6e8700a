"""An experiment's exposed users as arrays: arm, outcomes, pre-period values and the segment
features, read from ``int_experiment_user_values`` (one row per user and metric) with the
experiment id as a bound parameter.

Only two-arm experiments are modelled: the effect is treatment - control. Segment features are
the breakdown dimensions of the marts (browser, traffic_source, country) and ``returning``:
whether the user bought in the pre-period (the CUPED window before the start).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import Unprocessable
from common.experiments import ExperimentDefinition
from common.privacy.erasures import STAGING_SCHEMA
from common.warehouse import Warehouse

TABLE = "int_experiment_user_values"
DIMENSIONS = ("browser", "traffic_source", "country")
FEATURES = (*DIMENSIONS, "returning")
_LABELS = {"function": "model"}


@dataclass(frozen=True)
class ExperimentUsers:
    """One entry per exposed user, in user id order."""

    treated: np.ndarray  # bool: in the treatment arm
    converted: np.ndarray  # float 0/1 after exposure
    revenue: np.ndarray  # float, after exposure
    pre_converted: np.ndarray  # float 0/1 in the pre-period
    pre_revenue: np.ndarray  # float, in the pre-period
    segments: dict[str, np.ndarray]  # feature -> text level per user

    def __len__(self) -> int:
        return self.treated.size

    def outcome(self, target: str) -> np.ndarray:
        return self.converted if target == "conversion" else self.revenue

    def take(self, rows: np.ndarray) -> ExperimentUsers:
        return ExperimentUsers(
            self.treated[rows],
            self.converted[rows],
            self.revenue[rows],
            self.pre_converted[rows],
            self.pre_revenue[rows],
            {name: levels[rows] for name, levels in self.segments.items()},
        )


def from_columns(columns: dict[str, np.ndarray], treatment: str) -> ExperimentUsers:
    """Users from columns named as the query's (``variant`` holds the arm's name)."""
    pre_converted = np.asarray(columns["pre_converted"], dtype=float)
    segments = {name: np.asarray(columns[name], dtype=object) for name in DIMENSIONS}
    segments["returning"] = np.where(pre_converted > 0, "yes", "no").astype(object)
    return ExperimentUsers(
        np.asarray(columns["variant"], dtype=object) == treatment,
        np.asarray(columns["converted"], dtype=float),
        np.asarray(columns["revenue"], dtype=float),
        pre_converted,
        np.asarray(columns["pre_revenue"], dtype=float),
        segments,
    )


def read_users(
    warehouse: Warehouse, definition: ExperimentDefinition, max_users: int
) -> ExperimentUsers:
    """The experiment's users; more than ``max_users`` is refused (422) rather than sampled,
    so an answer always covers every exposed user."""
    if len(definition.variants) != 2:
        raise Unprocessable(
            f"effect models compare two arms; {definition.experiment_id!r} has "
            f"{len(definition.variants)}",
            field="experiment_id",
        )
    p = warehouse.placeholder("experiment_id")
    sql = (
        "select variant, user_id, browser, traffic_source, country,"  # noqa: S608
        " max(case when metric = 'conversion' then y end) as converted,"
        " max(case when metric = 'revenue_per_user' then y end) as revenue,"
        " max(case when metric = 'conversion' then x end) as pre_converted,"
        " max(case when metric = 'revenue_per_user' then x end) as pre_revenue"
        f" from {STAGING_SCHEMA}.{TABLE} where experiment_id = {p}"
        " group by variant, user_id, browser, traffic_source, country"
        f" order by user_id limit {int(max_users) + 1}"
    )
    params = {"experiment_id": definition.experiment_id}
    table = warehouse.query(sql, params, labels=_LABELS).table
    if table.num_rows > max_users:
        raise Unprocessable(
            f"{definition.experiment_id!r} has more than {max_users} exposed users, the most "
            "the effect models read in one request",
            field="experiment_id",
        )
    columns = {
        name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names
    }
    return from_columns(columns, definition.variants[1])
