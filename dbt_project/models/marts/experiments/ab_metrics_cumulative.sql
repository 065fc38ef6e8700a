{{ config(**experiment_incremental_config(['experiment_id', 'variant', 'metric', 'day'], 'day')) }}
-- ab_metrics day by day, for the cumulative effect over time: one row per experiment × variant
-- × metric × day, each calendar day (in the reporting time zone) from the start date to the end
-- date or the last day of data, whichever comes first. A day's row sums the users first exposed
-- on or before it, each with the metric counting only their orders up to that day (the rules of
-- int_experiment_user_values otherwise): on the last day it equals ab_metrics' row. An arm
-- nobody was exposed to yet has no row that day.
-- Incremental by experiment and day (macros/experiment_scope.sql): a later build recomputes
-- the days from from_day on of the experiments int_experiment_scope lists, each from all of
-- the experiment's exposures and orders (a day's values sum everything up to it).
{%- set scope = ref('int_experiment_scope') %}
with assignments as (
    select * from {{ ref('ab_assignments') }}
    {%- if is_incremental() %}
    where {{ recomputed_experiment('experiment_id') }}
    {%- endif %}
),

experiments as (
    select distinct variants.experiment_id, variants.start_date, variants.end_date,
        {{ 'scope.from_day' if is_incremental() else 'variants.start_date' }} as from_day
    from {{ ref('int_experiment_variants') }} as variants
    {%- if is_incremental() %}
    inner join {{ scope }} as scope on variants.experiment_id = scope.experiment_id
    {%- endif %}
),

orders as (
    select * from {{ ref('int_orders') }}
),

sessions as (
    select * from {{ ref('int_sessions') }}
),

user_values as (
    select * from {{ ref('int_experiment_user_values') }}
    {%- if is_incremental() %}
    where {{ recomputed_experiment('experiment_id') }}
    {%- endif %}
),

last_data_day as (
    -- exposures come from sessions and metric values from orders: nothing counted is later
    select max(newest) as newest_day
    from (
        select max(session_date) as newest from sessions
        union all
        select max(order_date) as newest from orders
    ) as newest_days
),

experiment_days as (
    select
        experiments.experiment_id,
        cast(calendar_day as date) as day
    from experiments
    cross join last_data_day
    cross join unnest({{ date_array('experiments.from_day', 'least(experiments.end_date, last_data_day.newest_day)') }}) as calendar_day
),

exposures as (
    select
        experiment_id,
        user_id,
        first_exposure_at,
        {{ local_date('first_exposure_at') }} as exposure_date
    from assignments
),

order_days as (
    -- per user and day, the orders ab_metrics counts: from the first exposure to the end date
    select
        exposures.experiment_id,
        exposures.user_id,
        orders.order_date as day,
        sum(orders.revenue) as revenue
    from exposures
    inner join experiments on exposures.experiment_id = experiments.experiment_id
    inner join orders
        on exposures.user_id = orders.user_id
        and orders.created_at >= exposures.first_exposure_at
        and orders.order_date <= experiments.end_date
    group by exposures.experiment_id, exposures.user_id, orders.order_date
),

change_days as (
    -- the days a user's values may change: the day of exposure and each day with orders
    select experiment_id, user_id, exposure_date as day, 0 as converted, 0 as revenue
    from exposures
    union all
    select experiment_id, user_id, day, 1 as converted, revenue
    from order_days
),

changes as (
    select experiment_id, user_id, day, max(converted) as converted, sum(revenue) as revenue
    from change_days
    group by experiment_id, user_id, day
),

values_from as (
    -- each user's values up to a change day, holding until the next change day
    select
        experiment_id,
        user_id,
        day as valid_from,
        lead(day) over (partition by experiment_id, user_id order by day) as next_change,
        max(converted) over (
            partition by experiment_id, user_id order by day
            rows between unbounded preceding and current row
        ) as converted,
        sum(revenue) over (
            partition by experiment_id, user_id order by day
            rows between unbounded preceding and current row
        ) as revenue
    from changes
),

daily_values as (
    -- one row per experiment day × exposed user × metric: y up to that day, x as ab_metrics'
    select
        user_values.experiment_id,
        user_values.variant,
        user_values.metric,
        experiment_days.day,
        cast(case user_values.metric
            when 'conversion' then values_from.converted
            else values_from.revenue
        end as {{ type_double() }}) as y,
        user_values.x
    from values_from
    inner join user_values
        on values_from.experiment_id = user_values.experiment_id
        and values_from.user_id = user_values.user_id
    inner join experiment_days
        on values_from.experiment_id = experiment_days.experiment_id
        and experiment_days.day >= values_from.valid_from
        and (values_from.next_change is null or experiment_days.day < values_from.next_change)
),

final as (
    select
        experiment_id,
        variant,
        metric,
        day,
        {{ ab_sufficient_statistics() }}
    from daily_values
    group by experiment_id, variant, metric, day
)

select * from final
