-- One row per scoring run (a promoted model version) and user of the snapshot it scored; users
-- erased since are left out, as everywhere in staging.
select
    cast(user_id as {{ dbt.type_bigint() }}) as user_id,
    cast(snapshot_date as date) as snapshot_date,
    cast(score as {{ type_double() }}) as score,
    cast(decile as {{ dbt.type_int() }}) as decile,
    model_version,
    {{ to_timestamp('scored_at') }} as scored_at
from {{ source('ml_scores', 'conversion') }} as scores
where {{ not_erased('scores.user_id') }}
