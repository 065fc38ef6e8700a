-- Per acquisition channel (the user's signup traffic source): users, buyers, revenue.
with users as (
    select * from {{ ref('stg_thelook__users') }}
),

customers as (
    select * from {{ ref('customer_ltv') }}
),

final as (
    select
        users.traffic_source as channel,
        count(*) as users,
        count(customers.user_id) as customers,
        count(case when customers.orders > 0 then 1 end) as buyers,
        cast(coalesce(sum(customers.orders), 0) as {{ dbt.type_bigint() }}) as orders,
        coalesce(sum(customers.lifetime_revenue), 0) as revenue,
        {{ safe_divide('count(case when customers.orders > 0 then 1 end)', 'count(*)') }}
            as buyer_rate,
        {{ money_per('coalesce(sum(customers.lifetime_revenue), 0)', 'count(*)') }}
            as revenue_per_user,
        {{ money_per('sum(customers.lifetime_revenue)', 'sum(customers.orders)') }}
            as average_order_value
    from users
    left join customers on users.user_id = customers.user_id
    group by users.traffic_source
)

select * from final
