{{ config(**experiment_incremental_config(['experiment_id', 'user_id'])) }}
-- A user is exposed to an experiment at their first signed-in session inside its window; that
-- session's browser and traffic source describe the user in experiment breakdowns (both are
-- fixed before the treatment can act on anything).
-- Incremental by experiment (macros/experiment_scope.sql): a later build recomputes the
-- experiments int_experiment_scope lists.
-- depends_on: {{ ref('int_experiment_scope') }}
with sessions as (
    select * from {{ ref('int_sessions') }}
    where user_id is not null
),

experiments as (
    select distinct experiment_id, start_date, end_date
    from {{ ref('int_experiment_variants') }}
    {%- if is_incremental() %}
    where {{ recomputed_experiment('experiment_id') }}
    {%- endif %}
),

final as (
    select
        experiments.experiment_id,
        sessions.user_id,
        min(sessions.started_at) as first_exposure_at,
        {{ first_by('sessions.browser', 'sessions.started_at') }} as browser,
        {{ first_by('sessions.traffic_source', 'sessions.started_at') }} as traffic_source
    from experiments
    inner join sessions
        on sessions.session_date between experiments.start_date and experiments.end_date
    group by experiments.experiment_id, sessions.user_id
)

select * from final
