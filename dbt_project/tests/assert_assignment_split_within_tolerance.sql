-- The hash assignment of every user splits each experiment as its weights say, within
-- 5 standard errors (a broken hash or bucket range shows up here; a sample-ratio mismatch in
-- who gets exposed is the stats engine's job, not this test's).
-- Which experiments: on a daily build (var test_changed_rows) those it recomputed
-- (int_experiment_scope; the others' definitions cannot have changed and passed when they were
-- built), on any other build every experiment (macros/experiment_scope.sql, tested_experiment).
with variants as (
    select * from {{ ref('int_experiment_variants') }}
    where {{ tested_experiment('experiment_id') }}
),

users as (
    select user_id from {{ ref('stg_thelook__users') }}
),

buckets as (
    select experiments.experiment_id, {{ hash_bucket('experiments.experiment_id', 'users.user_id') }} as bucket
    from (select distinct experiment_id from variants) as experiments
    cross join users
),

counts as (
    select
        variants.experiment_id,
        variants.variant,
        variants.weight,
        count(buckets.bucket) as assigned
    from variants
    left join buckets
        on buckets.experiment_id = variants.experiment_id
        and buckets.bucket >= variants.lower_bound
        and (buckets.bucket < variants.upper_bound or variants.is_last)
    group by variants.experiment_id, variants.variant, variants.weight
),

totals as (
    select count(*) as users from users
)

select counts.*, totals.users
from counts
cross join totals
where abs(counts.assigned - counts.weight * totals.users)
    > 5 * sqrt(counts.weight * (1 - counts.weight) * totals.users) + 1
