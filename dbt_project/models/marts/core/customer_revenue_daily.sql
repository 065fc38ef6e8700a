{{ config(
    post_hook="{{ delete_vanished_rows(this, 'orders = 0') }}",
    **incremental_config(['order_date', 'user_id'], 'order_date', ['order_date', 'user_id'])
) }}
-- Per order day and paying customer: the orders and revenue they kept that day, and the day of
-- their first kept order. Distinct customers and new vs returning revenue do not add up across
-- days, so the KPIs count them from these rows at whatever grain they are asked for.
-- Incremental (macros/incremental.sql): a later build recomputes every day of the customers
-- with an order that changed within the lookback (a change can move their first kept order).
-- A day that no longer holds a kept order (its orders cancelled or returned) is written with
-- none and deleted by the post-hook (macros/vanished_rows.sql).
{%- set int_orders = ref('int_orders') %}
with orders as (
    select * from {{ int_orders }}
    {%- if is_incremental() %}
    where user_id in (
        select changed.user_id from {{ int_orders }} as changed
        where {{ changed_recently(int_orders, 'changed') }}
    )
    {%- else %}
    where is_revenue_order
    {%- endif %}
),

daily as (
    select
        order_date,
        user_id,
        count(case when is_revenue_order then 1 end) as orders,
        sum(case when is_revenue_order then revenue else 0 end) as revenue
    from orders
    group by order_date, user_id
),

final as (
    select
        order_date,
        user_id,
        orders,
        revenue,
        min(case when orders > 0 then order_date end) over (partition by user_id) as first_order_date
    from daily
)

select * from final
-- The KPIs read a range of days: stored by day, their scan skips the row groups outside it.
{{ storage_order('order_date, user_id') }}
