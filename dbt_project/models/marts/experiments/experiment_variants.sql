-- One row per experiment and variant (variant_index from 1, the control first), from the same
-- place as experiments: the store's copy in staging, or the seed files while it is empty.
with stored as (
    select experiment_id, variant_index, variant, weight
    from {{ source('definitions', 'experiment_definition_variants') }}
),

initial as (
    select experiment_id, variant_index, variant, weight
    from {{ ref('initial_experiment_variants') }}
    where not exists (select 1 from {{ source('definitions', 'experiment_definitions') }})
),

final as (
    select * from stored
    union all
    select * from initial
)

select * from final
