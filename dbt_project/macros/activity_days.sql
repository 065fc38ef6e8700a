{#- The days whose activity (int_user_activity_days) an incremental build recomputes: those of
    the sessions and orders that changed within the lookback (macros/incremental.sql). A
    query of one column, activity_date, with repeats. -#}
{% macro changed_activity_days() -%}
    {%- set int_sessions = ref('int_sessions') -%}
    {%- set int_orders = ref('int_orders') -%}
    select changed.session_date as activity_date from {{ int_sessions }} as changed
    where {{ changed_recently(int_sessions, 'changed') }}
    union all
    select changed.order_date as activity_date from {{ int_orders }} as changed
    where {{ changed_recently(int_orders, 'changed') }}
{%- endmacro %}
