-- The experiments this build recomputes in the incremental experiment models
-- (macros/experiment_scope.sql), each with from_day, the first day of ab_metrics_cumulative
-- it rewrites (the other models rewrite all of an experiment's rows): every experiment on a
-- full build; on a later one those whose inputs may have changed within the lookback
-- (macros/incremental.sql, changed_recently):
--   definition   only a planned or running experiment's may change (common/definitions/
--                changes.py): those ending no earlier than the lookback before today; and
--                those the marts do not hold (created since, with any window);
--   exposures    a signed-in session that changed and lies, or lay, in the window (a session
--                only starts earlier and ends later as events arrive: it overlaps the window);
--   user values  an order of an exposed user that changed, placed between the pre-period's
--                start and the end date (from its day on; in the pre-period from the start:
--                the covariate), or an exposed user's country;
--   new days     the cumulative mart's last day of the experiment is before its end date and
--                the last day of data.
-- Read before the experiment models are rebuilt, so the exposed users are the previous
-- build's: a user exposed since came with a changed session, which recomputes the experiment.
{%- set variants = ref('int_experiment_variants') %}
{%- set sessions = ref('int_sessions') %}
{%- set orders = ref('int_orders') %}
{%- set users = ref('stg_thelook__users') %}
{%- set previous_assignments = previous_experiment_model('ab_assignments') %}
{%- set previous_metrics = previous_experiment_model('ab_metrics') %}
{%- set previous_cumulative = previous_experiment_model('ab_metrics_cumulative') %}
{%- set incremental = previous_assignments is not none and previous_metrics is not none
    and previous_cumulative is not none %}
with experiments as (
    select distinct experiment_id, start_date, end_date
    from {{ variants }}
),

{%- if not incremental %}

final as (
    select experiment_id, start_date as from_day
    from experiments
)
{%- else %}

last_data_day as (
    -- as ab_metrics_cumulative's
    select max(newest) as newest_day
    from (
        select max(session_date) as newest from {{ sessions }}
        union all
        select max(order_date) as newest from {{ orders }}
    ) as newest_days
),

changes as (
    select experiment_id, start_date as from_day
    from experiments
    where end_date is null
        or end_date >= cast({{ dbt.dateadd('day', -var('incremental_lookback_days'),
            "cast('" ~ run_started_at.astimezone(modules.pytz.timezone(reporting_time_zone())).strftime('%Y-%m-%d') ~ "' as date)") }} as date)
        or experiment_id not in (select experiment_id from {{ previous_metrics }})
    union all
    select experiments.experiment_id, greatest(experiments.start_date, sessions.session_date)
    from {{ sessions }} as sessions
    inner join experiments
        on sessions.session_date <= experiments.end_date
        and {{ local_date('sessions.ended_at') }} >= experiments.start_date
    where sessions.user_id is not null
        and {{ changed_recently(sessions, 'sessions') }}
    union all
    select experiments.experiment_id, greatest(experiments.start_date, orders.order_date)
    from {{ orders }} as orders
    inner join {{ previous_assignments }} as assignments on orders.user_id = assignments.user_id
    inner join experiments on assignments.experiment_id = experiments.experiment_id
    where orders.order_date >= cast({{ dbt.dateadd('day', -var('experiment_pre_period_days'), 'experiments.start_date') }} as date)
        and orders.order_date <= experiments.end_date
        and {{ changed_recently(orders, 'orders') }}
    union all
    select experiments.experiment_id, experiments.start_date
    from {{ users }} as users
    inner join {{ previous_assignments }} as assignments on users.user_id = assignments.user_id
    inner join experiments on assignments.experiment_id = experiments.experiment_id
    where {{ changed_recently(users, 'users') }}
    union all
    select experiments.experiment_id, cast({{ dbt.dateadd('day', 1, 'cumulative.last_day') }} as date)
    from experiments
    inner join (
        select experiment_id, max(day) as last_day
        from {{ previous_cumulative }}
        group by experiment_id
    ) as cumulative on experiments.experiment_id = cumulative.experiment_id
    cross join last_data_day
    where cumulative.last_day < least(experiments.end_date, last_data_day.newest_day)
),

final as (
    select experiment_id, min(from_day) as from_day
    from changes
    group by experiment_id
)
{%- endif %}

select * from final
