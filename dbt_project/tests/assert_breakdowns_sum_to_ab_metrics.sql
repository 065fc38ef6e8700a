-- Every breakdown of ab_metrics_by_dimension adds up to ab_metrics: no user is lost or counted
-- twice when one dimension splits an experiment's arms.
-- Which experiments: on a daily build (var test_changed_rows) those it recomputed
-- (int_experiment_scope; the others' rows are those that passed when they were built), on any
-- other build every experiment (macros/experiment_scope.sql, tested_experiment).
with breakdowns as (
    select experiment_id, variant, metric, dimension, sum(n) as n, sum(sum) as total
    from {{ ref('ab_metrics_by_dimension') }}
    where {{ tested_experiment('experiment_id') }}
    group by experiment_id, variant, metric, dimension
)

select breakdowns.*, ab_metrics.n as expected_n, ab_metrics.sum as expected_total
from breakdowns
inner join {{ ref('ab_metrics') }} as ab_metrics
    on breakdowns.experiment_id = ab_metrics.experiment_id
    and breakdowns.variant = ab_metrics.variant
    and breakdowns.metric = ab_metrics.metric
where breakdowns.n <> ab_metrics.n
    or abs(breakdowns.total - ab_metrics.sum) > 1e-6 * (1 + abs(ab_metrics.sum))
