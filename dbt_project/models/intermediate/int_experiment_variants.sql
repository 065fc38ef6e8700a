-- One row per experiment variant with the bucket range [lower_bound, upper_bound) it owns:
-- the cumulative weight of the variants before it and up to it, in variant_index order.
with experiments as (
    select * from {{ ref('experiments') }}
),

variants as (
    select * from {{ ref('experiment_variants') }}
),

bucket_ranges as (
    select
        experiment_id,
        variant_index,
        variant,
        weight,
        coalesce(sum(weight) over (
            partition by experiment_id order by variant_index
            rows between unbounded preceding and 1 preceding
        ), 0) as lower_bound,
        sum(weight) over (
            partition by experiment_id order by variant_index
            rows between unbounded preceding and current row
        ) as upper_bound,
        max(variant_index) over (partition by experiment_id) = variant_index as is_last
    from variants
),

final as (
    select
        bucket_ranges.experiment_id,
        bucket_ranges.variant_index,
        bucket_ranges.variant,
        bucket_ranges.weight,
        bucket_ranges.lower_bound,
        bucket_ranges.upper_bound,
        bucket_ranges.is_last,
        cast(experiments.start_date as date) as start_date,
        cast(experiments.end_date as date) as end_date,
        experiments.primary_metric
    from bucket_ranges
    inner join experiments on bucket_ranges.experiment_id = experiments.experiment_id
)

select * from final
