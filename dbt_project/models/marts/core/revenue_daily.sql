{{ config(**incremental_config('order_date', 'order_date', ['order_date'])) }}
-- Per order day: orders placed, orders and items that count as revenue, revenue, AOV, returns,
-- gross revenue (before returns) and the product cost of the kept items.
-- Revenue counts items that are not Cancelled or Returned (Processing, Shipped, Complete).
-- Incremental (macros/incremental.sql): a later build recomputes the days of the orders that
-- changed within the lookback.
{%- set int_orders = ref('int_orders') %}
with orders as (
    select * from {{ int_orders }}
    {%- if is_incremental() %}
    where order_date in (
        select changed.order_date from {{ int_orders }} as changed
        where {{ changed_recently(int_orders, 'changed') }}
    )
    {%- endif %}
),

daily as (
    select
        order_date,
        count(*) as orders_placed,
        count(case when is_revenue_order then 1 end) as orders,
        cast(sum(revenue_items) as {{ dbt.type_bigint() }}) as items,
        sum(revenue) as revenue,
        count(case when status = 'Cancelled' then 1 end) as cancelled_orders,
        count(case when status = 'Returned' then 1 end) as returned_orders,
        sum(returned_value) as returned_value,
        sum(gross_revenue) as gross_revenue,
        sum(cost_of_revenue) as cost_of_revenue
    from orders
    group by order_date
),

final as (
    select
        order_date,
        orders_placed,
        orders,
        items,
        revenue,
        {{ money_per('revenue', 'orders') }} as aov,
        cancelled_orders,
        returned_orders,
        returned_value,
        gross_revenue,
        cost_of_revenue
    from daily
)

select * from final
