-- One row per user and weekly snapshot date (a Monday): features from data strictly before the
-- snapshot day (orders: all history; sessions: the last 90 and 30 days, which also keeps the
-- join small), and the label: an order placed within label_window_days from the snapshot day.
-- Snapshots are the last feature_snapshot_weeks Mondays whose label window has fully passed.
{%- set label_days = var('label_window_days') %}
with snapshots as (
    {% for week in range(var('feature_snapshot_weeks')) -%}
    select {{ week_start(dbt.dateadd('day', -(label_days + 7 * week), as_of_date())) }} as snapshot_date
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

users as (
    select * from {{ ref('stg_thelook__users') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

sessions as (
    select * from {{ ref('int_sessions') }}
    where user_id is not null
),

user_snapshots as (
    select
        users.user_id,
        snapshots.snapshot_date,
        cast({{ dbt.dateadd('day', label_days, 'snapshots.snapshot_date') }} as date) as label_end_date,
        cast({{ dbt.dateadd('day', -30, 'snapshots.snapshot_date') }} as date) as recent_start_date,
        cast({{ dbt.dateadd('day', -90, 'snapshots.snapshot_date') }} as date) as lookback_start_date,
        users.age,
        users.gender,
        users.country,
        users.traffic_source as acquisition_channel,
        {{ dbt.datediff(local_date('users.created_at'), 'snapshots.snapshot_date', 'day') }}
            as days_since_signup
    from users
    cross join snapshots
    where {{ local_date('users.created_at') }} < snapshots.snapshot_date
),

order_history as (
    select
        user_snapshots.user_id,
        user_snapshots.snapshot_date,
        count(orders.order_id) as orders_before,
        -- Revenue as it stood the day before the snapshot: a later return was not known yet.
        sum(case
            when orders.returned_at is not null
                and {{ local_date('orders.returned_at') }} < user_snapshots.snapshot_date then 0
            when orders.status = 'Returned' then orders.gross_revenue
            else orders.revenue
        end) as revenue_before,
        max(orders.order_date) as last_order_date
    from user_snapshots
    inner join orders
        on user_snapshots.user_id = orders.user_id
        and orders.order_date < user_snapshots.snapshot_date
    group by user_snapshots.user_id, user_snapshots.snapshot_date
),

session_history as (
    select
        user_snapshots.user_id,
        user_snapshots.snapshot_date,
        count(*) as sessions_90d,
        count(case when sessions.session_date >= user_snapshots.recent_start_date then 1 end)
            as sessions_30d,
        cast(sum(case when sessions.session_date >= user_snapshots.recent_start_date
            then sessions.product_views else 0 end) as {{ dbt.type_bigint() }}) as product_views_30d,
        cast(sum(case when sessions.session_date >= user_snapshots.recent_start_date
            then sessions.cart_adds else 0 end) as {{ dbt.type_bigint() }}) as cart_adds_30d,
        {%- for source in var('event_traffic_sources') %}
        count(case when sessions.traffic_source = '{{ source }}' then 1 end)
            as sessions_{{ source | lower }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from user_snapshots
    inner join sessions
        on user_snapshots.user_id = sessions.user_id
        and sessions.session_date >= user_snapshots.lookback_start_date
        and sessions.session_date < user_snapshots.snapshot_date
    group by user_snapshots.user_id, user_snapshots.snapshot_date
),

labels as (
    select distinct
        user_snapshots.user_id,
        user_snapshots.snapshot_date
    from user_snapshots
    inner join orders
        on user_snapshots.user_id = orders.user_id
        and orders.order_date >= user_snapshots.snapshot_date
        and orders.order_date < user_snapshots.label_end_date
),

final as (
    select
        user_snapshots.user_id,
        user_snapshots.snapshot_date,
        user_snapshots.age,
        user_snapshots.gender,
        user_snapshots.country,
        user_snapshots.acquisition_channel,
        user_snapshots.days_since_signup,
        coalesce(order_history.orders_before, 0) as frequency,
        -- A model input, not a reported amount: the model reads doubles.
        cast(coalesce(order_history.revenue_before, 0) as {{ type_double() }}) as monetary,
        {{ dbt.datediff('order_history.last_order_date', 'user_snapshots.snapshot_date', 'day') }}
            as recency_days,
        coalesce(session_history.sessions_90d, 0) as sessions_90d,
        coalesce(session_history.sessions_30d, 0) as sessions_30d,
        coalesce(session_history.product_views_30d, 0) as product_views_30d,
        coalesce(session_history.cart_adds_30d, 0) as cart_adds_30d,
        {%- for source in var('event_traffic_sources') %}
        coalesce({{ safe_divide('session_history.sessions_' ~ (source | lower), 'session_history.sessions_90d') }}, 0)
            as traffic_share_{{ source | lower }},
        {%- endfor %}
        case when labels.user_id is not null then 1 else 0 end as label_purchased
    from user_snapshots
    left join order_history
        on user_snapshots.user_id = order_history.user_id
        and user_snapshots.snapshot_date = order_history.snapshot_date
    left join session_history
        on user_snapshots.user_id = session_history.user_id
        and user_snapshots.snapshot_date = session_history.snapshot_date
    left join labels
        on user_snapshots.user_id = labels.user_id
        and user_snapshots.snapshot_date = labels.snapshot_date
)

select * from final
