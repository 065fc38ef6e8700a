{#-
  Cohort retention: users grouped by the period (week or month) they signed up in; a user is
  active in a period when they had a signed-in session or placed an order in it.
-#}
{% macro retention(period) %}
with users as (
    select user_id, {{ period_start(period, local_date('created_at')) }} as cohort_{{ period }}
    from {{ ref('stg_thelook__users') }}
),

activity as (
    select distinct user_id, {{ period_start(period, 'activity_date') }} as active_{{ period }}
    from {{ ref('int_user_activity_days') }}
),

cohort_sizes as (
    select cohort_{{ period }}, count(*) as cohort_size
    from users
    group by cohort_{{ period }}
),

active as (
    select
        users.cohort_{{ period }},
        {{ periods_between(period, 'users.cohort_' ~ period, 'activity.active_' ~ period) }}
            as {{ period }}s_since_signup,
        count(*) as active_users
    from users
    inner join activity on users.user_id = activity.user_id
    where activity.active_{{ period }} >= users.cohort_{{ period }}
    group by 1, 2
),

final as (
    select
        active.cohort_{{ period }},
        active.{{ period }}s_since_signup,
        cohort_sizes.cohort_size,
        active.active_users,
        {{ safe_divide('active.active_users', 'cohort_sizes.cohort_size') }} as retention_rate
    from active
    inner join cohort_sizes on active.cohort_{{ period }} = cohort_sizes.cohort_{{ period }}
)

select * from final
{% endmacro %}

{#- The first day of the week (Monday) or month holding a date. -#}
{% macro period_start(period, expression) -%}
    {%- if period == 'week' -%}
        {{ week_start(expression) }}
    {%- else -%}
        cast({{ dbt.date_trunc('month', expression) }} as date)
    {%- endif -%}
{%- endmacro %}

{#- Whole periods from one period start to a later one. -#}
{% macro periods_between(period, first, second) -%}
    {%- if period == 'week' -%}
        cast({{ dbt.datediff(first, second, 'day') }} / 7 as {{ dbt.type_int() }})
    {%- else -%}
        {{ dbt.datediff(first, second, 'month') }}
    {%- endif -%}
{%- endmacro %}
