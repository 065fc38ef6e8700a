{{ config(**partitioned('order_date', ['order_date', 'user_id'])) }}
-- Per order day and paying customer: the orders and revenue they kept that day, and the day of
-- their first kept order. Distinct customers and new vs returning revenue do not add up across
-- days, so the KPIs count them from these rows at whatever grain they are asked for.
with orders as (
    select * from {{ ref('int_orders') }}
    where is_revenue_order
),

daily as (
    select
        order_date,
        user_id,
        count(*) as orders,
        sum(revenue) as revenue
    from orders
    group by order_date, user_id
),

final as (
    select
        order_date,
        user_id,
        orders,
        revenue,
        min(order_date) over (partition by user_id) as first_order_date
    from daily
)

select * from final
-- The KPIs read a range of days: stored by day, their scan skips the row groups outside it.
{{ storage_order('order_date, user_id') }}
