-- One row per experiment: its window and primary metric, and the day (in the reporting time
-- zone) these marts were built, which is "today" for an experiment's status (planned, running,
-- finished) as the marts report it.
with experiments as (
    select distinct experiment_id, start_date, end_date, primary_metric
    from {{ ref('int_experiment_variants') }}
),

final as (
    select
        experiment_id,
        start_date,
        end_date,
        primary_metric,
        cast('{{ run_started_at.astimezone(modules.pytz.timezone(reporting_time_zone())).strftime("%Y-%m-%d") }}' as date) as built_on
    from experiments
)

select * from final
