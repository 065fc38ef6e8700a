{{ config(**incremental_config('session_id', 'session_date', ['user_id'])) }}
-- One row per web session: who, when, from where, and how far down the funnel it got.
-- The session's traffic source and browser are those of its first event.
-- Incremental (macros/incremental.sql): a later build recomputes the sessions with an event
-- that changed within the lookback, from all their events.
{%- set stg_events = ref('stg_thelook__events') %}
{%- if is_incremental() %}
{%- set changed_events %}
    select changed.session_id, changed.created_at from {{ stg_events }} as changed
    where {{ changed_recently(stg_events, 'changed') }}
{%- endset %}
{#- No event of those sessions is older than the oldest changed event or the oldest start
    of those sessions as stored: as a literal, a bound that skips the blocks of older events. #}
{%- set first_event = instant_literal(
    'select min(first_event) from (select min(created_at) as first_event from (' ~ changed_events ~ ') as changed'
    ~ ' union all select min(started_at) from ' ~ this ~ ' where session_id in (select session_id from ('
    ~ changed_events ~ ') as changed)) as firsts'
) %}
{%- endif %}
with events as (
    select * from {{ stg_events }}
    {%- if is_incremental() %}
    where session_id in (select session_id from ({{ changed_events }}) as changed)
        and created_at >= {{ first_event }}
    {%- endif %}
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
        count(case when event_type = 'cart' then 1 end) as cart_adds,
        max(changed_at) as changed_at,
        max(ingested_at) as ingested_at
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
        cart_adds,
        changed_at,
        ingested_at
    from sessions
)

select * from final
