-- One row per experiment: the current definitions of the definitions store, which the dbt_build
-- function copies into staging before every build; while nothing was ever copied (a dbt build
-- outside dbt_build) the seed files, the demo's initial content, stand in.
with stored as (
    select
        experiment_id,
        hypothesis,
        start_date,
        end_date,
        primary_metric,
        definition_version
    from {{ source('definitions', 'experiment_definitions') }}
),

initial as (
    select
        experiment_id,
        description as hypothesis,
        start_date,
        end_date,
        primary_metric,
        cast(null as {{ dbt.type_bigint() }}) as definition_version
    from {{ ref('initial_experiments') }}
    where not exists (select 1 from stored)
),

final as (
    select * from stored
    union all
    select * from initial
)

select * from final
