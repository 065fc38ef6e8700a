{{ config(**experiment_incremental_config(['experiment_id', 'variant', 'metric'])) }}
-- Sufficient statistics per experiment × variant × metric, for the stats engine: n, sum and
-- sum of squares of the metric's per-user value y, and of the pre-period covariate x with the
-- cross-product sum of x·y (the per-user values and their windows: int_experiment_user_values).
-- Incremental by experiment (macros/experiment_scope.sql): a later build recomputes the
-- experiments int_experiment_scope lists.
-- depends_on: {{ ref('int_experiment_scope') }}
-- depends_on: {{ ref('int_experiment_variants') }} (the pre-hook's definitions)
with user_values as (
    select * from {{ ref('int_experiment_user_values') }}
    {%- if is_incremental() %}
    where {{ recomputed_experiment('experiment_id') }}
    {%- endif %}
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
