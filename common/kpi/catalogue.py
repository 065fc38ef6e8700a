"""Every KPI, defined once.

A KPI names the mart it reads, its parameters and output columns, and builds its SQL from a
``Dialect`` and the parsed parameter values. Values never enter the SQL text: builders write
placeholders through a ``Binder`` and return a ``Query`` holding the SQL and exactly the values
it binds. The only variable parts of the text are identifiers and fragments chosen here from
allow-lists (grain, which filters apply).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from common.kpi.columns import (
    Column,
    count,
    day,
    flag,
    identifier,
    instant,
    money,
    ratio,
    span,
    text,
)
from common.kpi.dialect import GRAINS, Binder, Dialect, Query
from common.kpi.params import Param
from common.kpi.periods import whole_periods
from common.money import Currency
from common.traffic_sources import EVENT_TRAFFIC_SOURCES, USER_TRAFFIC_SOURCES

FUNNEL_STEPS = ("home", "department", "product", "cart", "purchase")
# experiment_metrics' statistics are in the unit of each row's metric: a ratio for conversion,
# the currency for revenue per user. One column cannot name both, so they say "per_metric",
# and they are not rounded to cents: they are inputs of comparisons, not amounts to book.
METRIC_STATISTICS = ("mean", "std_dev", "covariate_mean")


def start_param(days: int) -> Param:
    return Param("start", "date", f"first day (default: {days} days before end)")


END = Param("end", "date", "last day, inclusive (default: the newest day in the data)")
INCLUDE_PARTIAL = Param(
    "include_partial", "bool", "also the rows of incomplete periods", default=False
)


@dataclass(frozen=True)
class Kpi:
    name: str
    description: str
    params: tuple[Param, ...]
    columns: tuple[Column, ...]  # of the query, in its order
    build: Callable[[Dialect, Mapping[str, Any]], Query]
    dimensions: tuple[str, ...] = ()
    grains: tuple[str, ...] = ()
    # Where the default date range is read from: (table, date column) for the given params.
    date_source: Callable[[Mapping[str, Any]], tuple[str, str]] | None = None
    default_days: int = 90
    # The column holding each row's period (its first day): each row then says in an added
    # ``complete`` column whether that whole period is answered and has data.
    period: str | None = None
    # Compares periods: rows of incomplete periods only with include_partial=true.
    growth: bool = False

    @property
    def output_columns(self) -> tuple[Column, ...]:
        """The query's columns, then what the service adds."""
        return (*self.columns, flag("complete")) if self.period else self.columns

    def period_grain(self, values: Mapping[str, Any]) -> str:
        """The grain chosen, or the only one a KPI with a single grain has."""
        return values.get("grain") or self.grains[0]

    def describe(self, currency: Currency) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameters": [p.describe() for p in self.params],
            "dimensions": list(self.dimensions),
            "grains": list(self.grains),
            "columns": [column.describe(currency) for column in self.output_columns],
        }


def _split_for_customers(
    p: Mapping[str, Any],
) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """Distinct customers do not add up across days: the range splits into the periods it
    holds whole (first and last day, or None), read from customers_by_period, and the days
    of the at most two periods it cuts, counted from the per-customer rows. start <= end
    (params.py)."""
    start, end = p["start"], p["end"]
    whole = whole_periods(start, end, p["grain"])
    if whole is None:
        return None, [(start, end)]
    one_day = timedelta(days=1)
    cuts = [(start, whole[0] - one_day), (whole[1] + one_day, end)]
    return whole, [(first, last) for first, last in cuts if first <= last]


def _per_customer_parts(
    d: Dialect, p: Mapping[str, Any], whole_columns: str, cut_columns: str
) -> tuple[Binder, str]:
    """The binder and a union of one row per period: ``whole_columns`` of customers_by_period
    for the periods the range holds whole, ``cut_columns`` aggregated over the per-customer
    rows of customer_revenue_daily (as ``flagged``: period, user_id, revenue, is_new) for the
    days of each period it cuts."""
    whole, cuts = _split_for_customers(p)
    values = dict(p)
    if whole:
        values |= {"whole_start": whole[0], "whole_end": whole[1]}
    for i, (first, last) in enumerate(cuts):
        values |= {f"cut{i}_start": first, f"cut{i}_end": last}
    bind = Binder(d, values)
    period = d.truncate(p["grain"], "order_date")
    # A customer is new in the period holding their first kept order, returning after it.
    is_new = f"{d.truncate(p['grain'], 'first_order_date')} = {period}"
    parts = []
    if whole:
        parts.append(f"""
            select period, {whole_columns}
            from {d.table("customers_by_period")}
            where grain = {bind("grain")}
                and period between {bind("whole_start")} and {bind("whole_end")}""")
    for i in range(len(cuts)):
        parts.append(f"""
            select period, {cut_columns}
            from (
                select {period} as period, user_id, revenue, {is_new} as is_new
                from {d.table("customer_revenue_daily")}
                where order_date between {bind(f"cut{i}_start")} and {bind(f"cut{i}_end")}
            ) as flagged
            group by period""")
    return bind, "\n            union all".join(parts)


def _revenue(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind, buyers = _per_customer_parts(d, p, "customers", "count(distinct user_id) as customers")
    period = d.truncate(p["grain"], "order_date")
    return bind.query(f"""
        with money as (
            select
                {period} as period,
                cast(sum(orders) as bigint) as orders,
                cast(sum(items) as bigint) as items,
                sum(revenue) as revenue,
                cast(sum(cancelled_orders) as bigint) as cancelled_orders,
                cast(sum(returned_orders) as bigint) as returned_orders
            from {d.table("revenue_daily")}
            where {bind.between("order_date")}
            group by 1
        ),
        buyers as ({buyers}
        )
        select
            money.period,
            money.orders,
            money.items,
            money.revenue,
            money.revenue / nullif(money.orders, 0) as aov,
            money.cancelled_orders,
            money.returned_orders,
            cast(coalesce(buyers.customers, 0) as bigint) as customers
        from money
        left join buyers on money.period = buyers.period
        order by 1
    """)


def _new_vs_returning(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind, totals = _per_customer_parts(
        d,
        p,
        "new_customers, customers - new_customers as returning_customers, "
        "new_customer_revenue, revenue",
        """count(distinct case when is_new then user_id end) as new_customers,
                count(distinct case when not is_new then user_id end) as returning_customers,
                sum(case when is_new then revenue else 0 end) as new_customer_revenue,
                sum(revenue) as revenue""",
    )
    return bind.query(f"""
        with totals as ({totals}
        )
        select
            period,
            cast(new_customers as bigint) as new_customers,
            cast(returning_customers as bigint) as returning_customers,
            new_customer_revenue,
            revenue - new_customer_revenue as returning_customer_revenue,
            new_customer_revenue / nullif(revenue, 0) as new_customer_revenue_share
        from totals
        order by period
    """)


def _refund_rate(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    period = d.truncate(p["grain"], "order_date")
    return bind.query(f"""
        with totals as (
            select
                {period} as period,
                sum(gross_revenue) as gross_revenue,
                sum(returned_value) as returned_revenue
            from {d.table("revenue_daily")}
            where {bind.between("order_date")}
            group by 1
        )
        select
            period,
            gross_revenue,
            returned_revenue,
            returned_revenue / nullif(gross_revenue, 0) as refund_rate
        from totals
        order by period
    """)


def _gross_margin(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    period = d.truncate(p["grain"], "order_date")
    return bind.query(f"""
        with totals as (
            select
                {period} as period,
                sum(revenue) as revenue,
                sum(cost_of_revenue) as cost_of_revenue
            from {d.table("revenue_daily")}
            where {bind.between("order_date")}
            group by 1
        )
        select
            period,
            revenue,
            cost_of_revenue,
            revenue - cost_of_revenue as gross_profit,
            (revenue - cost_of_revenue) / nullif(revenue, 0) as gross_margin
        from totals
        order by period
    """)


def _funnel(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    sums = ", ".join(f"cast(sum({s}_sessions) as bigint) as {s}_sessions" for s in FUNNEL_STEPS)
    return bind.query(f"""
        with totals as (
            select traffic_source, cast(sum(sessions) as bigint) as sessions, {sums}
            from {d.table("funnel")}
            where {bind.between("session_date")}{bind.equals("traffic_source", "traffic_source")}
            group by traffic_source
        )
        select
            *,
            department_sessions / nullif(home_sessions, 0) as home_to_department_rate,
            product_sessions / nullif(department_sessions, 0) as department_to_product_rate,
            cart_sessions / nullif(product_sessions, 0) as product_to_cart_rate,
            purchase_sessions / nullif(cart_sessions, 0) as cart_to_purchase_rate,
            purchase_sessions / nullif(sessions, 0) as session_conversion_rate
        from totals
        order by traffic_source
    """)


def _retention_source(p: Mapping[str, Any]) -> tuple[str, str]:
    grain = p["grain"]
    return (f"retention_{grain}ly", f"cohort_{grain}")


def _retention(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    table, cohort = _retention_source(p)
    grain = p["grain"]
    return bind.query(f"""
        select
            {cohort} as cohort,
            {grain}s_since_signup as periods_since_signup,
            cohort_size,
            active_users,
            retention_rate
        from {d.table(table)}
        where {bind.between(cohort)}
            and {grain}s_since_signup <= {bind("max_periods")}
        order by 1, 2
    """)


def _customer_ltv(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        select
            user_id,
            acquisition_channel,
            country,
            orders,
            lifetime_revenue,
            average_order_value,
            first_order_at,
            last_order_at
        from {d.table("customer_ltv")}
        {bind.equals("acquisition_channel", "channel", "where")}
        order by lifetime_revenue desc, user_id
        limit {bind("limit")}
    """)


def _rfm_segments(d: Dialect, p: Mapping[str, Any]) -> Query:
    return Binder(d, p).query(f"""
        select
            segment,
            count(*) as customers,
            count(*) / sum(count(*)) over () as share,
            avg(recency_days) as avg_recency_days,
            avg(frequency) as avg_frequency,
            avg(monetary) as avg_monetary
        from {d.table("rfm_segments")}
        group by segment
        order by customers desc, segment
    """)


def _channel_performance(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        select
            channel, users, buyers, orders, revenue, buyer_rate, revenue_per_user,
            average_order_value
        from {d.table("channel_performance")}
        {bind.equals("channel", "channel", "where")}
        order by revenue desc, channel
    """)


def _mom_growth(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        select month, revenue, orders, aov, previous_revenue, revenue_growth_mom
        from {d.table("revenue_monthly")}
        where {bind.between("month")}
        order by month
    """)


def _experiment_metrics(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        select
            variant,
            metric,
            n,
            sum / n as mean,
            sqrt(greatest(sum_squares - sum * sum / n, 0) / nullif(n - 1, 0)) as std_dev,
            covariate_sum / n as covariate_mean
        from {d.table("ab_metrics")}
        where experiment_id = {bind("experiment_id")}{bind.equals("metric", "metric")}
        order by metric, variant
    """)


def _score_calibration(d: Dialect, p: Mapping[str, Any]) -> Query:
    bind = Binder(d, p)
    return bind.query(f"""
        select
            snapshot_date,
            model_version,
            decile,
            users,
            expected_conversions,
            actual_conversions,
            expected_conversions / users as mean_score,
            actual_conversions / users as observed_rate
        from {d.table("ml_score_calibration")}
        where {bind.between("snapshot_date")}
        order by snapshot_date, model_version, decile
    """)


def _revenue_dates(p: Mapping[str, Any]) -> tuple[str, str]:
    return ("revenue_daily", "order_date")


def _grain(default: str, allowed: tuple[str, ...] = GRAINS) -> Param:
    return Param("grain", "enum", "time grain", default=default, allowed=allowed)


CATALOGUE: dict[str, Kpi] = {
    kpi.name: kpi
    for kpi in (
        Kpi(
            "revenue",
            "Revenue, orders, AOV and paying customers over time. Revenue counts items neither "
            "cancelled nor returned; orders are the orders holding such an item (AOV = revenue "
            "/ orders) and customers the distinct users who placed them.",
            (start_param(90), END, _grain("day")),
            (
                day("period"),
                count("orders"),
                count("items"),
                money("revenue"),
                money("aov"),
                count("cancelled_orders"),
                count("returned_orders"),
                count("customers"),
            ),
            _revenue,
            grains=GRAINS,
            date_source=_revenue_dates,
            period="period",
        ),
        Kpi(
            "new_vs_returning",
            "Revenue from new and from returning paying customers over time. A customer is new "
            "in the period holding their first order with a kept item, returning afterwards.",
            (start_param(90), END, _grain("month")),
            (
                day("period"),
                count("new_customers"),
                count("returning_customers"),
                money("new_customer_revenue"),
                money("returning_customer_revenue"),
                ratio("new_customer_revenue_share"),
            ),
            _new_vs_returning,
            grains=GRAINS,
            date_source=_revenue_dates,
            period="period",
        ),
        Kpi(
            "refund_rate",
            "Returned revenue as a share of gross revenue (items not cancelled) over time, by "
            "the day the order was placed.",
            (start_param(90), END, _grain("month")),
            (
                day("period"),
                money("gross_revenue"),
                money("returned_revenue"),
                ratio("refund_rate"),
            ),
            _refund_rate,
            grains=GRAINS,
            date_source=_revenue_dates,
            period="period",
        ),
        Kpi(
            "gross_margin",
            "Kept revenue less the product cost of the kept items, and that profit as a share "
            "of revenue, over time.",
            (start_param(90), END, _grain("month")),
            (
                day("period"),
                money("revenue"),
                money("cost_of_revenue"),
                money("gross_profit"),
                ratio("gross_margin"),
            ),
            _gross_margin,
            grains=GRAINS,
            date_source=_revenue_dates,
            period="period",
        ),
        Kpi(
            "funnel",
            "Sessions reaching each funnel step (home → department → product → cart → "
            "purchase) by traffic source, with step and session conversion rates.",
            (
                start_param(30),
                END,
                Param("traffic_source", "enum", "only this source", allowed=EVENT_TRAFFIC_SOURCES),
            ),
            (
                text("traffic_source"),
                count("sessions"),
                *(count(f"{step}_sessions") for step in FUNNEL_STEPS),
                ratio("home_to_department_rate"),
                ratio("department_to_product_rate"),
                ratio("product_to_cart_rate"),
                ratio("cart_to_purchase_rate"),
                ratio("session_conversion_rate"),
            ),
            _funnel,
            dimensions=("traffic_source",),
            date_source=lambda p: ("funnel", "session_date"),
            default_days=30,
        ),
        Kpi(
            "retention",
            "Signup cohorts (weeks start Monday) by periods since signup: cohort size, active "
            "users (a signed-in session or an order) and retention rate.",
            (
                start_param(182),
                END,
                _grain("week", ("week", "month")),
                Param("max_periods", "int", "periods after signup", 12, minimum=0, maximum=156),
            ),
            (
                day("cohort"),
                span("periods_since_signup", "periods"),
                count("cohort_size"),
                count("active_users"),
                ratio("retention_rate"),
            ),
            _retention,
            grains=("week", "month"),
            date_source=_retention_source,
            default_days=182,
        ),
        Kpi(
            "customer_ltv",
            "Top customers by lifetime revenue (kept revenue), with orders and AOV.",
            (
                Param("limit", "int", "rows to return", 100, minimum=1, maximum=10_000),
                Param(
                    "channel", "enum", "only this acquisition channel", allowed=USER_TRAFFIC_SOURCES
                ),
            ),
            (
                identifier("user_id"),
                text("acquisition_channel"),
                text("country"),
                count("orders"),
                money("lifetime_revenue"),
                money("average_order_value"),
                instant("first_order_at"),
                instant("last_order_at"),
            ),
            _customer_ltv,
            dimensions=("acquisition_channel",),
        ),
        Kpi(
            "rfm_segments",
            "Customers per RFM segment (recency/frequency/monetary quintiles) with averages.",
            (),
            (
                text("segment"),
                count("customers"),
                ratio("share"),
                span("avg_recency_days", "days", "number"),
                count("avg_frequency", "number"),
                money("avg_monetary"),
            ),
            _rfm_segments,
        ),
        Kpi(
            "channel_performance",
            "Per acquisition channel: users, buyers, orders, revenue and rates.",
            (Param("channel", "enum", "only this channel", allowed=USER_TRAFFIC_SOURCES),),
            (
                text("channel"),
                count("users"),
                count("buyers"),
                count("orders"),
                money("revenue"),
                ratio("buyer_rate"),
                money("revenue_per_user"),
                money("average_order_value"),
            ),
            _channel_performance,
            dimensions=("channel",),
        ),
        Kpi(
            "mom_growth",
            "Monthly revenue, orders and AOV with month-over-month revenue growth. A month not "
            "wholly within the range or not yet over is left out unless include_partial=true.",
            (start_param(366), END, INCLUDE_PARTIAL),
            (
                day("month"),
                money("revenue"),
                count("orders"),
                money("aov"),
                money("previous_revenue"),
                ratio("revenue_growth_mom"),
            ),
            _mom_growth,
            grains=("month",),
            # The newest day, not month: it tells whether the newest month is complete.
            date_source=_revenue_dates,
            default_days=366,
            period="month",
            growth=True,
        ),
        Kpi(
            "experiment_metrics",
            "Per variant of an experiment: exposed users (n), metric mean and standard "
            "deviation after exposure, and the pre-period covariate mean. Mean, standard "
            "deviation and covariate mean are in the metric's unit: a ratio for conversion, "
            "the currency (unrounded) for revenue_per_user.",
            (
                Param(
                    "experiment_id",
                    "id",
                    "the experiment",
                    required=True,
                    known_in=("ab_experiments", "experiment_id"),
                ),
                Param(
                    "metric", "enum", "only this metric", allowed=("conversion", "revenue_per_user")
                ),
            ),
            (
                text("variant"),
                text("metric"),
                count("n"),
                *(Column(name, "number", "per_metric") for name in METRIC_STATISTICS),
            ),
            _experiment_metrics,
            dimensions=("variant", "metric"),
        ),
        Kpi(
            "score_calibration",
            "The conversion model in production: after each promotion it scores every user of "
            "the latest feature snapshot. Per snapshot, model version and decile of users by "
            "score (1 = the highest tenth): users, expected conversions (the sum of their "
            "scores) and, once the snapshot's label window has passed, actual conversions "
            "(orders within it; null before), with the mean score and the observed rate.",
            (start_param(90), END),
            (
                day("snapshot_date"),
                text("model_version"),
                Column("decile", "integer", "decile"),
                count("users"),
                count("expected_conversions", "number"),
                count("actual_conversions"),
                ratio("mean_score"),
                ratio("observed_rate"),
            ),
            _score_calibration,
            dimensions=("model_version", "decile"),
            date_source=lambda p: ("ml_score_calibration", "snapshot_date"),
        ),
    )
}
