-- The days on which a known user did anything: a signed-in session or an order.
with sessions as (
    select user_id, session_date as activity_date
    from {{ ref('int_sessions') }}
    where user_id is not null
),

orders as (
    select user_id, order_date as activity_date
    from {{ ref('int_orders') }}
),

final as (
    select distinct user_id, activity_date
    from (
        select * from sessions
        union all
        select * from orders
    ) as activity
)

select * from final
