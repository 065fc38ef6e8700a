-- Every experiment has at least two variants whose weights sum to 1 (up to rounding).
with experiments as (
    select * from {{ ref('experiments') }}
),

variants as (
    select * from {{ ref('experiment_variants') }}
),

splits as (
    select
        experiments.experiment_id,
        count(variants.variant) as variant_count,
        coalesce(sum(variants.weight), 0) as total_weight
    from experiments
    left join variants on experiments.experiment_id = variants.experiment_id
    group by experiments.experiment_id
)

select * from splits
where variant_count < 2 or abs(total_weight - 1) > 1e-9
