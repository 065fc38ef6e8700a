{{ config(**incremental_config(['session_date', 'traffic_source'], 'session_date', ['session_date', 'traffic_source'])) }}
-- Per session day and traffic source: sessions reaching each step, step and overall conversion.
-- Incremental (macros/incremental.sql): a later build recomputes the days of the sessions
-- that changed within the lookback.
{%- set int_sessions = ref('int_sessions') %}
with sessions as (
    select * from {{ int_sessions }}
    {%- if is_incremental() %}
    where session_date in (
        select changed.session_date from {{ int_sessions }} as changed
        where {{ changed_recently(int_sessions, 'changed') }}
    )
    {%- endif %}
),

steps as (
    select
        session_date,
        traffic_source,
        count(*) as sessions,
        count(case when reached_home then 1 end) as home_sessions,
        count(case when reached_department then 1 end) as department_sessions,
        count(case when reached_product then 1 end) as product_sessions,
        count(case when reached_cart then 1 end) as cart_sessions,
        count(case when reached_purchase then 1 end) as purchase_sessions
    from sessions
    group by session_date, traffic_source
),

final as (
    select
        session_date,
        traffic_source,
        sessions,
        home_sessions,
        department_sessions,
        product_sessions,
        cart_sessions,
        purchase_sessions,
        {{ safe_divide('department_sessions', 'home_sessions') }} as home_to_department_rate,
        {{ safe_divide('product_sessions', 'department_sessions') }} as department_to_product_rate,
        {{ safe_divide('cart_sessions', 'product_sessions') }} as product_to_cart_rate,
        {{ safe_divide('purchase_sessions', 'cart_sessions') }} as cart_to_purchase_rate,
        {{ safe_divide('purchase_sessions', 'sessions') }} as session_conversion_rate
    from steps
)

select * from final
