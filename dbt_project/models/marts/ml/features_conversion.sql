-- One row per user and weekly snapshot date (a Monday): features from data strictly before the
-- snapshot day (orders: all history; sessions: the last 90 and 30 days, which also keeps the
-- join small), and the label: an order placed within label_window_days from the snapshot day.
-- Snapshots are the last feature_snapshot_weeks Mondays whose label window has fully passed.
-- Incremental (macros/incremental.sql): a row depends only on its user's signup, orders and
-- sessions, so a later build computes the snapshots it has not got yet for every user, and in
-- the snapshots it has only the rows of the users whose signup, orders or sessions changed
-- within the lookback (from the first snapshot each change reaches: see changed_users).
-- Snapshots that left the window are deleted first (a pre-hook of incremental builds only: a
-- first or full build writes nothing but the window).
{{ config(
    pre_hook="{% if is_incremental() %}delete from {{ this }} where snapshot_date not in ({{ feature_snapshot_dates() }}){% endif %}",
    **incremental_config(['user_id', 'snapshot_date'], 'snapshot_date', ['user_id'], 'day')
) }}
{%- set label_days = var('label_window_days') %}
{%- set stg_users = ref('stg_thelook__users') %}
{%- set int_orders = ref('int_orders') %}
{%- set int_sessions = ref('int_sessions') %}
{%- set as_of = as_of_date_literal() %}
with snapshots as (
    select snapshot_date from ({{ feature_snapshot_dates(as_of) }}) as current_snapshots
),
{%- if is_incremental() %}

built_snapshots as (
    select snapshot_date from snapshots
    where snapshot_date in (select distinct snapshot_date from {{ this }})
),

-- Per user whose inputs changed within the lookback: the day after which its snapshots
-- changed. An order placed or sent again can enter a label window (label_window_days before
-- its day) or the history after it; a status change or a return only alters the order's value
-- in the history. A session or a signup alters the features of the snapshots after its day.
-- An order or a session never moves to another user: the user it changes is the one it has.
changed_users as (
    select user_id, min(changed_after) as changed_after
    from (
        select
            changed.user_id,
            case
                when changed.created_at >= {{ lookback_start(int_orders, 'changed_at') }}
                    or changed.ingested_at >= {{ lookback_start(int_orders, 'ingested_at') }}
                    then cast({{ dbt.dateadd('day', -label_days, 'changed.order_date') }} as date)
                else changed.order_date
            end as changed_after
        from {{ int_orders }} as changed
        where {{ changed_recently(int_orders, 'changed') }}
        union all
        select changed.user_id, changed.session_date
        from {{ int_sessions }} as changed
        where {{ changed_recently(int_sessions, 'changed') }}
        union all
        select changed.user_id, {{ local_date('changed.created_at') }}
        from {{ stg_users }} as changed
        where {{ changed_recently(stg_users, 'changed') }}
    ) as changes
    group by user_id
),

new_snapshots as (
    select snapshot_date from snapshots
    where snapshot_date not in (select snapshot_date from built_snapshots)
),

-- The rows to compute: every user's in the snapshots not built yet, and in those built, the
-- rows a change reaches.
user_snapshot_keys as (
    select users.user_id, new_snapshots.snapshot_date
    from {{ stg_users }} as users
    cross join new_snapshots
    union all
    select changed_users.user_id, built_snapshots.snapshot_date
    from changed_users
    inner join built_snapshots on built_snapshots.snapshot_date > changed_users.changed_after
),
{%- endif %}

users as (
    select * from {{ stg_users }}
),

orders as (
    select * from {{ int_orders }}
),

-- Those of the snapshots' 90 days: bounds the engine reads before the join, which skip the
-- storage blocks of older sessions.
sessions as (
    select * from {{ int_sessions }}
    where user_id is not null
        and session_date >= cast({{ dbt.dateadd(
            'day', -90, feature_snapshot_date(var('feature_snapshot_weeks') - 1, as_of)) }} as date)
        and session_date < {{ feature_snapshot_date(0, as_of) }}
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
    {%- if is_incremental() %}
    inner join user_snapshot_keys as snapshots on users.user_id = snapshots.user_id
    {%- else %}
    cross join snapshots
    {%- endif %}
    where {{ local_date('users.created_at') }} < snapshots.snapshot_date
),

-- The orders before the snapshot day (features) and up to its label window's end (the label),
-- in one join.
order_history as (
    select
        user_snapshots.user_id,
        user_snapshots.snapshot_date,
        count(case when orders.order_date < user_snapshots.snapshot_date then orders.order_id end)
            as orders_before,
        -- Revenue as it stood the day before the snapshot: a later return was not known yet.
        sum(case
            when orders.order_date >= user_snapshots.snapshot_date then null
            when orders.returned_at is not null
                and {{ local_date('orders.returned_at') }} < user_snapshots.snapshot_date then 0
            when orders.status = 'Returned' then orders.gross_revenue
            else orders.revenue
        end) as revenue_before,
        max(case when orders.order_date < user_snapshots.snapshot_date then orders.order_date end)
            as last_order_date,
        max(case when orders.order_date >= user_snapshots.snapshot_date then 1 else 0 end)
            as label_purchased
    from user_snapshots
    inner join orders
        on user_snapshots.user_id = orders.user_id
        and orders.order_date < user_snapshots.label_end_date
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
        coalesce(order_history.label_purchased, 0) as label_purchased
    from user_snapshots
    left join order_history
        on user_snapshots.user_id = order_history.user_id
        and user_snapshots.snapshot_date = order_history.snapshot_date
    left join session_history
        on user_snapshots.user_id = session_history.user_id
        and user_snapshots.snapshot_date = session_history.snapshot_date
)

select * from final
