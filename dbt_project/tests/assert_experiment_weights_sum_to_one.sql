-- Every experiment has at least two variants, and their weights sum to 1 (up to rounding).
-- Every experiment on every build, daily ones included: a few rows of definitions.
select
    experiments.experiment_id,
    count(variants.variant) as variant_count,
    sum(variants.weight) as total_weight
from {{ ref('experiments') }} as experiments
left join {{ ref('experiment_variants') }} as variants
    on experiments.experiment_id = variants.experiment_id
group by experiments.experiment_id
having count(variants.variant) < 2 or abs(sum(variants.weight) - 1) > 1e-9
