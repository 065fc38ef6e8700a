{#-
  Cohort retention: users grouped by the period (week or month) they signed up in; a user is
  active in a period when they had a signed-in session or placed an order in it.

  Incremental (macros/incremental.sql): a row (cohort, periods since signup) changes only when
  a user becomes active in its period (a day int_user_activity_days recomputes: new activity
  never lands elsewhere, and activity never vanishes but through erasure) or its cohort gains
  or loses a user (a user row that changed: a signup or a shop sending the user again, maybe
  with another signup time). A later build recomputes the rows of the periods holding a
  recomputed day and every row of the cohorts whose users changed or whose size differs from
  the stored one (a user who left a cohort shrinks it, unless another changed user joined it).
  A row whose cohort lost its last active user in that period is written with no active users
  and deleted by the post-hook (macros/vanished_rows.sql).
-#}
{% macro retention(period) %}
{%- set cohort = 'cohort_' ~ period %}
{%- set since = period ~ 's_since_signup' %}
{%- set stg_users = ref('stg_thelook__users') %}
{{ config(
    post_hook="{{ delete_vanished_rows(this, 'active_users = 0') }}",
    **incremental_config([cohort, since], cohort, [cohort])
) }}
-- depends_on: {{ ref('int_sessions') }}, {{ ref('int_orders') }} (the changed activity days)
with users as (
    select user_id, {{ period_start(period, local_date('created_at')) }} as {{ cohort }}
    from {{ stg_users }}
),

cohort_sizes as (
    select {{ cohort }}, count(*) as cohort_size
    from users
    group by {{ cohort }}
),
{%- if is_incremental() %}

changed_periods as (
    select distinct {{ period_start(period, 'activity_date') }} as active_{{ period }}
    from ({{ changed_activity_days() }}) as changed_days
),

changed_cohorts as (
    select {{ period_start(period, local_date('changed.created_at')) }} as {{ cohort }}
    from {{ stg_users }} as changed
    where {{ changed_recently(stg_users, 'changed') }}
    union all
    select coalesce(cohort_sizes.{{ cohort }}, stored.{{ cohort }})
    from cohort_sizes
    full outer join (select distinct {{ cohort }}, cohort_size from {{ this }}) as stored
        on cohort_sizes.{{ cohort }} = stored.{{ cohort }}
    where stored.cohort_size is null or cohort_sizes.cohort_size is null
        or stored.cohort_size <> cohort_sizes.cohort_size
),
{%- endif %}

activity as (
    select distinct user_id, {{ period_start(period, 'activity_date') }} as active_{{ period }}
    from {{ ref('int_user_activity_days') }}
    {%- if is_incremental() %}
    where {{ period_start(period, 'activity_date') }} in (select active_{{ period }} from changed_periods)
        or user_id in (
            select user_id from users
            where {{ cohort }} in (select {{ cohort }} from changed_cohorts)
        )
    {%- endif %}
),

active as (
    select
        users.{{ cohort }},
        {{ periods_between(period, 'users.' ~ cohort, 'activity.active_' ~ period) }} as {{ since }},
        count(*) as active_users
    from users
    inner join activity on users.user_id = activity.user_id
    where activity.active_{{ period }} >= users.{{ cohort }}
    group by 1, 2
),
{%- if is_incremental() %}

vanished as (
    select stored.{{ cohort }}, stored.{{ since }}, cast(0 as {{ dbt.type_bigint() }}) as active_users
    from {{ this }} as stored
    where stored.{{ cohort }} in (select {{ cohort }} from changed_cohorts)
        and not exists (
            select 1 from active
            where active.{{ cohort }} = stored.{{ cohort }} and active.{{ since }} = stored.{{ since }}
        )
),

rows_written as (
    select * from active
    union all
    select * from vanished
),
{%- endif %}

final as (
    select
        written.{{ cohort }},
        written.{{ since }},
        cohort_sizes.cohort_size,
        written.active_users,
        {{ safe_divide('written.active_users', 'cohort_sizes.cohort_size') }} as retention_rate
    from {{ 'rows_written' if is_incremental() else 'active' }} as written
    left join cohort_sizes on written.{{ cohort }} = cohort_sizes.{{ cohort }}
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
