{{ config(**partitioned('month', ['month'])) }}
-- Per month: revenue, orders, AOV and month-over-month growth.
with daily as (
    select * from {{ ref('revenue_daily') }}
),

monthly as (
    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month,
        cast(sum(orders) as {{ dbt.type_bigint() }}) as orders,
        sum(revenue) as revenue
    from daily
    group by 1
),

final as (
    select
        month,
        orders,
        revenue,
        {{ money_per('revenue', 'orders') }} as aov,
        lag(revenue) over (order by month) as previous_revenue,
        {{ safe_divide('revenue', 'lag(revenue) over (order by month)') }} - 1 as revenue_growth_mom
    from monthly
)

select * from final
