-- Sufficient statistics per experiment × variant × metric, for the stats engine: n, sum and
-- sum of squares of the metric's per-user value y, and of the pre-period covariate x with the
-- cross-product sum of x·y (the per-user values and their windows: int_experiment_user_values).
with user_values as (
    select * from {{ ref('int_experiment_user_values') }}
),

final as (
    select
        experiment_id,
        variant,
        metric,
        {{ ab_sufficient_statistics() }}
    from user_values
    group by experiment_id, variant, metric
)

select * from final
