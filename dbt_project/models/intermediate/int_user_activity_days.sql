{{ config(**incremental_config(['user_id', 'activity_date'], 'activity_date', ['user_id'])) }}
-- The days on which a known user did anything: a signed-in session or an order.
-- Incremental (macros/incremental.sql): a later build recomputes the whole days of the
-- sessions and orders that changed within the lookback.
{%- set int_sessions = ref('int_sessions') %}
{%- set int_orders = ref('int_orders') %}
{%- if is_incremental() %}
with changed_days as (
    {{ changed_activity_days() }}
),

sessions as (
{%- else %}
with sessions as (
{%- endif %}
    select user_id, session_date as activity_date
    from {{ int_sessions }}
    where user_id is not null
    {%- if is_incremental() %}
        and session_date in (select activity_date from changed_days)
    {%- endif %}
),

orders as (
    select user_id, order_date as activity_date
    from {{ int_orders }}
    {%- if is_incremental() %}
    where order_date in (select activity_date from changed_days)
    {%- endif %}
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
