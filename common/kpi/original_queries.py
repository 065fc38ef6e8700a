"""The original ExecKPI API's ``POST /kpi/query``, answered from our marts.

The original backend read ``sql/<sql_file>`` and ran it on BigQuery with the request's
``start``/``end`` DATE parameters. Here each of its six file names names a KPI defined below over
our marts: no file is read and no SQL comes from the request; the two dates are bound
parameters, and ``KpiService`` runs the KPI as it runs the catalogue's (byte cap, cache). A
column keeps its original name where our mart has that meaning, and takes our name where it
does not. Missing dates default to the newest data, as in the catalogue.

- ``api_revenue_daily.sql`` → mart ``revenue_daily`` (the rows of the catalogue's ``revenue``
  at grain ``day``): ``day, orders, revenue, aov`` per order day in the range, the original
  columns with our definitions (revenue of items neither cancelled nor returned, orders holding
  such an item).
- ``api_funnel_users.sql`` → mart ``funnel`` (the catalogue's ``funnel``, all traffic sources
  together): one row per step, home → purchase, with the sessions that reached it in the range
  and the rates from the previous step and from all sessions. The original flagged each of 5,000
  users; thelook records the funnel per session, and a guest's session has no user.
- ``api_ab_group.sql`` → marts ``ab_assignments`` and ``ab_experiments``: exposed users per
  group (variant) and their share, for every experiment that ran in the range. The original
  listed 5,000 users of its one 50/50 split; one user's variant is ``GET /ab/assign``.
- ``api_ab_metrics.sql`` → mart ``ab_metrics``: per experiment and group, the original
  ``users, converters, conversion_rate`` (conversion after exposure) plus revenue and revenue
  per user.
- ``api_retention_weekly.sql`` → mart ``retention_weekly`` (the catalogue's ``retention`` at
  grain ``week``): ``cohort_week, week_n, retention_rate`` as the original (Monday cohorts,
  weeks 0 to 12), plus ``cohort_size`` and ``active_users``, for cohorts starting in the range.
- ``api_features_conversion.sql`` → mart ``features_conversion``: per user and snapshot in the
  range, the conversion model's features (``common.ml.features.CONVERSION``) and its label,
  newest snapshot first, at most 5,000 rows like the original. The original's 30-day columns
  do not exist here; the model's features do.

Answers add ``schema`` after the original keys: each column's name, type and unit, as the
catalogue's answers give them (money in the configured currency, rounded to its minor unit).

A/B rows cover experiments whose window overlaps the range, each whole: a group's size and
outcome only mean something over the whole experiment, which is how the analysis judges it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from common.errors import NotFound
from common.kpi.catalogue import END, FUNNEL_STEPS, Kpi, start_param
from common.kpi.columns import Column, count, day, flag, identifier, money, ratio, span, text
from common.kpi.dialect import Binder, Dialect, Query
from common.kpi.service import KpiResult, KpiService
from common.ml.features import CONVERSION
from common.traffic_sources import EVENT_TRAFFIC_SOURCES
from common.validation import InvalidInput, choice, iso_date, known_fields

RETENTION_WEEKS = 12  # the original's week_n ran from 0 to 12
FEATURE_ROWS = 5000  # the original's limit
DATE_TYPE = "DATE"  # the only BigQuery parameter type the original files took


@dataclass(frozen=True)
class OriginalQuery:
    kpi: Kpi
    dates: Mapping[str, str]  # "start"/"end" → the ISO date sent
    fields: Mapping[str, str]  # "start"/"end" → the request field that sent it


class UnknownQueryFile(NotFound):
    field = "sql_file"

    def __init__(self) -> None:
        super().__init__("no such query file; see known", known=tuple(QUERY_FILES))


def answer(service: KpiService, body: Mapping[str, Any]) -> dict[str, Any]:
    """``{rows, columns, data, schema}`` of the query the body names, ``data`` one object per
    row, ``schema`` each column's name, type and unit."""
    query = parse_request(body)
    try:
        prepared = service.prepare_kpi(query.kpi, query.dates)
    except InvalidInput as error:
        # The date rules (bounds, order, span) name the parameter; the client sent params[i].
        raise InvalidInput(query.fields.get(error.field, "params"), error.message) from None
    return _records(service.run(prepared))


def parse_request(body: Mapping[str, Any]) -> OriginalQuery:
    """``{sql_file, params?: [{name, type, value}]}`` with ``start``/``end`` DATE params."""
    known_fields(body, "", ("sql_file", "params"))
    sql_file = body.get("sql_file")
    if sql_file is None:
        raise InvalidInput("sql_file", "is required")
    if not isinstance(sql_file, str):
        raise InvalidInput("sql_file", "must be a string")
    kpi = QUERY_FILES.get(sql_file)
    if kpi is None:
        raise UnknownQueryFile()
    params = body.get("params") or []  # the original treated a missing or null list as empty
    if not isinstance(params, list):
        raise InvalidInput("params", "must be a list of {name, type, value}")
    dates: dict[str, str] = {}
    fields: dict[str, str] = {}
    for i, param in enumerate(params):
        field = f"params[{i}]"
        known_fields(param, field, ("name", "type", "value"))
        name = choice(param.get("name"), f"{field}.name", ("start", "end"))
        if name in dates:
            raise InvalidInput(f"{field}.name", f"{name} is given twice")
        kind = param.get("type")
        if not isinstance(kind, str) or kind.upper() != DATE_TYPE:
            raise InvalidInput(f"{field}.type", f"must be {DATE_TYPE}")
        dates[name] = iso_date(param.get("value"), f"{field}.value").isoformat()
        fields[name] = f"{field}.value"
    return OriginalQuery(kpi, dates, fields)


def _records(result: KpiResult) -> dict[str, Any]:
    names = [column["name"] for column in result.columns]
    data = [dict(zip(names, row, strict=True)) for row in result.rows]
    return {"rows": len(data), "columns": names, "data": data, "schema": result.columns}


def _revenue_daily(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        select order_date as day, orders, revenue, aov
        from {d.table("revenue_daily")}
        where {bind.between("order_date")}
        order by order_date
    """)


def _funnel_steps(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    totals = ", ".join(f"cast(sum({step}_sessions) as bigint) as {step}" for step in FUNNEL_STEPS)
    previous = ("cast(null as bigint)", *FUNNEL_STEPS[:-1])
    steps = " union all ".join(
        f"select {position} as position, '{step}' as step, {step} as sessions, "
        f"{before} as previous_sessions, all_sessions from totals"
        for position, (step, before) in enumerate(zip(FUNNEL_STEPS, previous, strict=True))
    )
    return bind.query(f"""
        with totals as (
            select cast(sum(sessions) as bigint) as all_sessions, {totals}
            from {d.table("funnel")}
            where {bind.between("session_date")}
        ),
        steps as ({steps})
        select
            step,
            sessions,
            sessions / nullif(previous_sessions, 0) as rate_from_previous_step,
            sessions / nullif(all_sessions, 0) as rate_from_all_sessions
        from steps
        order by position
    """)


def _experiments_in_range(d: Dialect, bind: Binder) -> str:
    return f"""
        select experiment_id
        from {d.table("ab_experiments")}
        where start_date <= {bind("end")} and end_date >= {bind("start")}
    """


def _ab_group(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        with experiments as ({_experiments_in_range(d, bind)})
        select
            assignments.experiment_id,
            assignments.variant as ab_group,
            count(*) as users,
            count(*) / sum(count(*)) over (partition by assignments.experiment_id) as share
        from {d.table("ab_assignments")} as assignments
        inner join experiments on assignments.experiment_id = experiments.experiment_id
        group by assignments.experiment_id, assignments.variant
        order by 1, 2
    """)


def _ab_metrics(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)

    def of(metric: str, column: str) -> str:
        return f"sum(case when metrics.metric = '{metric}' then metrics.{column} end)"

    return bind.query(f"""
        with experiments as ({_experiments_in_range(d, bind)})
        select
            metrics.experiment_id,
            metrics.variant as ab_group,
            cast({of("conversion", "n")} as bigint) as users,
            cast({of("conversion", "sum")} as bigint) as converters,
            {of("conversion", "sum")} / nullif({of("conversion", "n")}, 0) as conversion_rate,
            {of("revenue_per_user", "sum")} as revenue,
            {of("revenue_per_user", "sum")} / nullif({of("revenue_per_user", "n")}, 0)
                as revenue_per_user
        from {d.table("ab_metrics")} as metrics
        inner join experiments on metrics.experiment_id = experiments.experiment_id
        group by metrics.experiment_id, metrics.variant
        order by 1, 2
    """)


def _retention_weekly(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        select
            cohort_week,
            weeks_since_signup as week_n,
            cohort_size,
            active_users,
            retention_rate
        from {d.table("retention_weekly")}
        where {bind.between("cohort_week")} and weeks_since_signup <= {RETENTION_WEEKS}
        order by cohort_week, weeks_since_signup
    """)


def _features_conversion(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        select user_id, snapshot_date, {", ".join(CONVERSION.names)}, {CONVERSION.label}
        from {d.table(CONVERSION.table)}
        where {bind.between("snapshot_date")}
        order by snapshot_date desc, user_id
        limit {FEATURE_ROWS}
    """)


def _source(table: str, column: str) -> Callable[[Mapping[str, Any]], tuple[str, str]]:
    return lambda p: (table, column)


# The unit of each numeric feature (common.ml.features defines them); a feature added there
# without a unit here fails at import.
_FEATURE_UNITS = {
    "age": "years",
    "days_since_signup": "days",
    "frequency": "count",
    "recency_days": "days",
    "sessions_90d": "count",
    "sessions_30d": "count",
    "product_views_30d": "count",
    "cart_adds_30d": "count",
    **{f"traffic_share_{source.lower()}": "ratio" for source in EVENT_TRAFFIC_SOURCES},
}


def _feature_column(name: str, kind: str) -> Column:
    if kind == "categorical":
        return text(name)
    if name == "monetary":
        return money(name)
    return Column(name, "number", _FEATURE_UNITS[name])


_FEATURE_COLUMNS = tuple(_feature_column(f.name, f.kind) for f in CONVERSION.features)

# sql_file → its KPI; the name (the file's stem) keys the result cache next to the catalogue's.
QUERY_FILES: dict[str, Kpi] = {
    f"{kpi.name}.sql": kpi
    for kpi in (
        Kpi(
            "api_revenue_daily",
            "Revenue, orders and AOV per order day.",
            (start_param(90), END),
            (day("day"), count("orders"), money("revenue"), money("aov")),
            _revenue_daily,
            date_source=_source("revenue_daily", "order_date"),
        ),
        Kpi(
            "api_funnel_users",
            "Sessions reaching each funnel step, with step and overall rates.",
            (start_param(30), END),
            (
                text("step"),
                count("sessions"),
                ratio("rate_from_previous_step"),
                ratio("rate_from_all_sessions"),
            ),
            _funnel_steps,
            date_source=_source("funnel", "session_date"),
            default_days=30,
        ),
        Kpi(
            "api_ab_group",
            "Exposed users per group of every experiment that ran in the range.",
            (start_param(90), END),
            (
                identifier("experiment_id", "string"),
                text("ab_group"),
                count("users"),
                ratio("share"),
            ),
            _ab_group,
            date_source=_source("ab_experiments", "end_date"),
        ),
        Kpi(
            "api_ab_metrics",
            "Conversion and revenue per group of every experiment that ran in the range.",
            (start_param(90), END),
            (
                identifier("experiment_id", "string"),
                text("ab_group"),
                count("users"),
                count("converters"),
                ratio("conversion_rate"),
                money("revenue"),
                money("revenue_per_user"),
            ),
            _ab_metrics,
            date_source=_source("ab_experiments", "end_date"),
        ),
        Kpi(
            "api_retention_weekly",
            f"Weekly signup cohorts, weeks 0 to {RETENTION_WEEKS} after signup.",
            (start_param(182), END),
            (
                day("cohort_week"),
                span("week_n", "weeks"),
                count("cohort_size"),
                count("active_users"),
                ratio("retention_rate"),
            ),
            _retention_weekly,
            date_source=_source("retention_weekly", "cohort_week"),
            default_days=182,
        ),
        Kpi(
            "api_features_conversion",
            "The conversion model's features and label per user and snapshot (newest first).",
            (start_param(7), END),
            (
                identifier("user_id"),
                day("snapshot_date"),
                *_FEATURE_COLUMNS,
                flag(CONVERSION.label, "integer"),
            ),
            _features_conversion,
            date_source=_source(CONVERSION.table, CONVERSION.time_column),
            default_days=7,  # the newest weekly snapshot
        ),
    )
}
