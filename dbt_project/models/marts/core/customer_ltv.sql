-- Per customer with at least one order: lifetime orders, revenue and timing.
with orders as (
    select * from {{ ref('int_orders') }}
),

users as (
    select * from {{ ref('stg_thelook__users') }}
),

per_customer as (
    select
        user_id,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at,
        count(*) as orders_placed,
        count(case when is_revenue_order then 1 end) as orders,
        sum(revenue) as lifetime_revenue
    from orders
    group by user_id
),

final as (
    select
        per_customer.user_id,
        users.traffic_source as acquisition_channel,
        users.country,
        users.created_at as signed_up_at,
        per_customer.first_order_at,
        per_customer.last_order_at,
        per_customer.orders_placed,
        per_customer.orders,
        per_customer.lifetime_revenue,
        {{ money_per('per_customer.lifetime_revenue', 'per_customer.orders') }} as average_order_value,
        {{ dbt.datediff(local_date('per_customer.first_order_at'), local_date('per_customer.last_order_at'), 'day') }}
            as customer_lifetime_days
    from per_customer
    left join users on per_customer.user_id = users.user_id
)

select * from final
-- The customer_ltv KPI reads the top customers by lifetime revenue: stored in that order, its
-- scan stops after the first row groups instead of reading every customer.
{{ storage_order('lifetime_revenue desc, user_id') }}
