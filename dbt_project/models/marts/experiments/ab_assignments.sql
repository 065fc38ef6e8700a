{{ config(**experiment_incremental_config(['experiment_id', 'user_id'])) }}
-- experiment × exposed user → variant, by the deterministic SHA-256 bucket shared with
-- common/experiments.py: the variant whose [lower_bound, upper_bound) holds the bucket.
-- Incremental by experiment (macros/experiment_scope.sql): a later build recomputes the
-- experiments int_experiment_scope lists.
-- depends_on: {{ ref('int_experiment_scope') }}
with exposures as (
    select * from {{ ref('int_experiment_exposures') }}
    {%- if is_incremental() %}
    where {{ recomputed_experiment('experiment_id') }}
    {%- endif %}
),

variants as (
    select * from {{ ref('int_experiment_variants') }}
),

bucketed as (
    select
        experiment_id,
        user_id,
        first_exposure_at,
        browser,
        traffic_source,
        {{ hash_bucket('experiment_id', 'user_id') }} as bucket
    from exposures
),

final as (
    select
        bucketed.experiment_id,
        bucketed.user_id,
        variants.variant,
        bucketed.bucket,
        bucketed.first_exposure_at,
        bucketed.browser,
        bucketed.traffic_source
    from bucketed
    inner join variants
        on bucketed.experiment_id = variants.experiment_id
        and bucketed.bucket >= variants.lower_bound
        and (bucketed.bucket < variants.upper_bound or variants.is_last)
        and variants.weight > 0
)

select * from final
