-- On an experiment's last day, ab_metrics_cumulative holds ab_metrics' rows: the same arms and
-- metrics with the same statistics, since no exposure or order is later than the last day.
-- Which experiments: on a daily build (var test_changed_rows) those it recomputed
-- (int_experiment_scope; the others' rows are those that passed when they were built), on any
-- other build every experiment (macros/experiment_scope.sql, tested_experiment).
with last_days as (
    select experiment_id, max(day) as day
    from {{ ref('ab_metrics_cumulative') }}
    where {{ tested_experiment('experiment_id') }}
    group by experiment_id
),

last_rows as (
    select cumulative.*
    from {{ ref('ab_metrics_cumulative') }} as cumulative
    inner join last_days
        on cumulative.experiment_id = last_days.experiment_id
        and cumulative.day = last_days.day
)

select
    coalesce(ab_metrics.experiment_id, last_rows.experiment_id) as experiment_id,
    coalesce(ab_metrics.variant, last_rows.variant) as variant,
    coalesce(ab_metrics.metric, last_rows.metric) as metric,
    ab_metrics.n as expected_n,
    last_rows.n
from (
    select * from {{ ref('ab_metrics') }} where {{ tested_experiment('experiment_id') }}
) as ab_metrics
full outer join last_rows
    on ab_metrics.experiment_id = last_rows.experiment_id
    and ab_metrics.variant = last_rows.variant
    and ab_metrics.metric = last_rows.metric
where ab_metrics.n is null
    or last_rows.n is null
    or ab_metrics.n <> last_rows.n
    or abs(ab_metrics.sum - last_rows.sum) > 1e-6 * (1 + abs(ab_metrics.sum))
    or abs(ab_metrics.sum_squares - last_rows.sum_squares) > 1e-6 * (1 + abs(ab_metrics.sum_squares))
    or abs(ab_metrics.covariate_sum - last_rows.covariate_sum) > 1e-6 * (1 + abs(ab_metrics.covariate_sum))
    or abs(ab_metrics.cross_product_sum - last_rows.cross_product_sum) > 1e-6 * (1 + abs(ab_metrics.cross_product_sum))
