-- Calibration in production: per scoring run (the promoted model version and the feature
-- snapshot it scored) and decile of its users by score, the conversions the scores expect
-- (their sum) against those that happened once the outcomes are known: the snapshot's label in
-- features_conversion, which holds only snapshots whose label window has passed. A snapshot
-- not (or no longer) there has no known outcome: its actual conversions are null.
with scores as (
    select * from {{ ref('stg_ml__conversion_scores') }}
),

labels as (
    select user_id, snapshot_date, label_purchased from {{ ref('features_conversion') }}
),

labelled_snapshots as (
    select distinct snapshot_date from labels
),

by_decile as (
    select
        scores.model_version,
        scores.snapshot_date,
        scores.decile,
        count(*) as users,
        sum(scores.score) as expected_conversions,
        min(scores.score) as min_score,
        max(scores.score) as max_score,
        sum(labels.label_purchased) as labelled_conversions
    from scores
    left join labels
        on labels.user_id = scores.user_id and labels.snapshot_date = scores.snapshot_date
    group by scores.model_version, scores.snapshot_date, scores.decile
)

select
    by_decile.model_version,
    by_decile.snapshot_date,
    by_decile.decile,
    cast(by_decile.users as {{ dbt.type_bigint() }}) as users,
    by_decile.min_score,
    by_decile.max_score,
    by_decile.expected_conversions,
    labelled.snapshot_date is not null as outcome_known,
    case
        when labelled.snapshot_date is not null
            then cast(coalesce(by_decile.labelled_conversions, 0) as {{ dbt.type_bigint() }})
    end as actual_conversions
from by_decile
left join labelled_snapshots as labelled on labelled.snapshot_date = by_decile.snapshot_date
