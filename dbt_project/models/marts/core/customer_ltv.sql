{{ config(**incremental_config('user_id', none, ['user_id'])) }}
-- Per customer with at least one order: lifetime orders, revenue and timing.
-- Incremental (macros/incremental.sql): a later build recomputes the customers with an order
-- or a user row that changed within the lookback, from all their orders (nothing here depends
-- on the day of the build, so every other customer's row stays as it is).
{%- set int_orders = ref('int_orders') %}
{%- set stg_users = ref('stg_thelook__users') %}
with
{%- if is_incremental() %}
changed_customers as (
    select changed.user_id from {{ int_orders }} as changed
    where {{ changed_recently(int_orders, 'changed') }}
    union all
    select changed.user_id from {{ stg_users }} as changed
    where {{ changed_recently(stg_users, 'changed') }}
),
{%- endif %}

orders as (
    select * from {{ int_orders }}
    {%- if is_incremental() %}
    where user_id in (select user_id from changed_customers)
    {%- endif %}
),

users as (
    select * from {{ stg_users }}
    {%- if is_incremental() %}
    where user_id in (select user_id from changed_customers)
    {%- endif %}
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
