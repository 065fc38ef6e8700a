{{ config(**experiment_incremental_config(['experiment_id', 'variant', 'metric', 'dimension', 'dimension_value'])) }}
-- ab_metrics' sufficient statistics split by one user dimension at a time (browser,
-- traffic_source, country of the exposure), for exploratory breakdowns. Per experiment and
-- dimension, the experiment_breakdown_max_values values with the most exposed users keep
-- their name and the rest are summed as 'other', so a breakdown's size stays bounded.
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

by_dimension as (
    select experiment_id, variant, user_id, metric, y, x,
        'browser' as dimension, browser as dimension_value
    from user_values
    union all
    select experiment_id, variant, user_id, metric, y, x,
        'traffic_source' as dimension, traffic_source as dimension_value
    from user_values
    union all
    select experiment_id, variant, user_id, metric, y, x,
        'country' as dimension, country as dimension_value
    from user_values
),

value_sizes as (
    select experiment_id, dimension, dimension_value, count(distinct user_id) as users
    from by_dimension
    group by experiment_id, dimension, dimension_value
),

ranked as (
    select
        experiment_id,
        dimension,
        dimension_value,
        row_number() over (
            partition by experiment_id, dimension order by users desc, dimension_value
        ) as size_rank
    from value_sizes
),

capped as (
    select
        by_dimension.experiment_id,
        by_dimension.variant,
        by_dimension.metric,
        by_dimension.dimension,
        case when ranked.size_rank <= {{ var('experiment_breakdown_max_values') }}
            then by_dimension.dimension_value else 'other' end as dimension_value,
        by_dimension.y,
        by_dimension.x
    from by_dimension
    inner join ranked
        on by_dimension.experiment_id = ranked.experiment_id
        and by_dimension.dimension = ranked.dimension
        and by_dimension.dimension_value = ranked.dimension_value
),

final as (
    select
        experiment_id,
        variant,
        metric,
        dimension,
        dimension_value,
        {{ ab_sufficient_statistics() }}
    from capped
    group by experiment_id, variant, metric, dimension, dimension_value
)

select * from final
