-- Sufficient statistics per experiment × variant × metric, for the stats engine:
--   n, sum and sum of squares of the metric per exposed user, counting only orders placed at
--   or after the user's first exposure and no later than the experiment's end date;
--   the same metric over the pre-period before the start (the CUPED covariate x) with its sum,
--   sum of squares and the cross-product sum of x·y.
-- conversion = placed at least one order; revenue_per_user = revenue kept (see int_orders).
with assignments as (
    select * from {{ ref('ab_assignments') }}
),

experiments as (
    select distinct experiment_id, start_date, end_date
    from {{ ref('int_experiment_variants') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

per_user as (
    select
        assignments.experiment_id,
        assignments.variant,
        assignments.user_id,
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
    left join orders
        on assignments.user_id = orders.user_id
        and orders.order_date >= cast({{ dbt.dateadd('day', -var('experiment_pre_period_days'), 'experiments.start_date') }} as date)
        and orders.order_date <= experiments.end_date
    group by assignments.experiment_id, assignments.variant, assignments.user_id
),

metric_values as (
    select experiment_id, variant, 'conversion' as metric,
        cast(converted as {{ type_double() }}) as y, cast(pre_converted as {{ type_double() }}) as x
    from per_user
    union all
    select experiment_id, variant, 'revenue_per_user' as metric,
        cast(revenue as {{ type_double() }}) as y, cast(pre_revenue as {{ type_double() }}) as x
    from per_user
),

final as (
    select
        experiment_id,
        variant,
        metric,
        count(*) as n,
        sum(y) as sum,
        sum(y * y) as sum_squares,
        sum(x) as covariate_sum,
        sum(x * x) as covariate_sum_squares,
        sum(x * y) as cross_product_sum
    from metric_values
    group by experiment_id, variant, metric
)

select * from final
