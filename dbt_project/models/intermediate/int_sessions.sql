-- One row per web session: who, when, from where, and how far down the funnel it got.
-- The session's traffic source and browser are those of its first event.
with events as (
    select * from {{ ref('stg_thelook__events') }}
),

sessions as (
    select
        session_id,
        max(user_id) as user_id,
        min(created_at) as started_at,
        max(created_at) as ended_at,
        {{ first_by('traffic_source', 'sequence_number') }} as traffic_source,
        {{ first_by('browser', 'sequence_number') }} as browser,
        count(*) as events,
        count(case when event_type = 'home' then 1 end) > 0 as reached_home,
        count(case when event_type = 'department' then 1 end) > 0 as reached_department,
        count(case when event_type = 'product' then 1 end) > 0 as reached_product,
        count(case when event_type = 'cart' then 1 end) > 0 as reached_cart,
        count(case when event_type = 'purchase' then 1 end) > 0 as reached_purchase,
        count(case when event_type = 'product' then 1 end) as product_views,
        count(case when event_type = 'cart' then 1 end) as cart_adds
    from events
    group by session_id
),

final as (
    select
        session_id,
        user_id,
        started_at,
        ended_at,
        {{ local_date('started_at') }} as session_date,
        traffic_source,
        browser,
        events,
        reached_home,
        reached_department,
        reached_product,
        reached_cart,
        reached_purchase,
        product_views,
        cart_adds
    from sessions
)

select * from final
