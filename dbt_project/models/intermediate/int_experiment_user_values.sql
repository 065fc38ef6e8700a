{{ config(**experiment_incremental_config(['experiment_id', 'user_id', 'metric'])) }}
-- One row per experiment × exposed user × metric: the metric's value y after exposure and the
-- same metric x over the pre-period (the CUPED covariate), with the user's breakdown
-- dimensions. ab_metrics and ab_metrics_by_dimension both sum these rows.
--   y counts only orders placed at or after the user's first exposure and no later than the
--   experiment's end date; x only orders in the experiment_pre_period_days before its start.
--   conversion = placed at least one order; revenue_per_user = revenue kept (see int_orders).
-- Incremental by experiment (macros/experiment_scope.sql): a later build recomputes the
-- experiments int_experiment_scope lists.
-- depends_on: {{ ref('int_experiment_scope') }}
with assignments as (
    select * from {{ ref('ab_assignments') }}
    {%- if is_incremental() %}
    where {{ recomputed_experiment('experiment_id') }}
    {%- endif %}
),

experiments as (
    select distinct experiment_id, start_date, end_date
    from {{ ref('int_experiment_variants') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

users as (
    select user_id, country from {{ ref('stg_thelook__users') }}
),

per_user as (
    select
        assignments.experiment_id,
        assignments.variant,
        assignments.user_id,
        -- a missing attribute is a value of its own, so every user stays in every breakdown
        coalesce(assignments.browser, 'unknown') as browser,
        coalesce(assignments.traffic_source, 'unknown') as traffic_source,
        coalesce(users.country, 'unknown') as country,
        max(case when orders.created_at >= assignments.first_exposure_at
            and orders.order_date <= experiments.end_date then 1 else 0 end) as converted,
        sum(case when orders.created_at >= assignments.first_exposure_at
            and orders.order_date <= experiments.end_date then orders.revenue else 0 end) as revenue,
        max(case when orders.order_date < experiments.start_date then 1 else 0 end)
            as pre_converted,
        sum(case when orders.order_date < experiments.start_date then orders.revenue else 0 end)
            as pre_revenue
    from assignments
    inner join experiments on assignments.experiment_id = experiments.experiment_id
    left join users on assignments.user_id = users.user_id
    left join orders
        on assignments.user_id = orders.user_id
        and orders.order_date >= cast({{ dbt.dateadd('day', -var('experiment_pre_period_days'), 'experiments.start_date') }} as date)
        and orders.order_date <= experiments.end_date
    group by 1, 2, 3, 4, 5, 6
),

final as (
    select experiment_id, variant, user_id, browser, traffic_source, country,
        'conversion' as metric,
        cast(converted as {{ type_double() }}) as y, cast(pre_converted as {{ type_double() }}) as x
    from per_user
    union all
    select experiment_id, variant, user_id, browser, traffic_source, country,
        'revenue_per_user' as metric,
        cast(revenue as {{ type_double() }}) as y, cast(pre_revenue as {{ type_double() }}) as x
    from per_user
)

select * from final
