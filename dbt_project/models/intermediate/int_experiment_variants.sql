-- One row per experiment variant with the bucket range [lower_bound, upper_bound) it owns.
-- The seed lists variants and weights as 'a|b|c' strings: split them at positions 1..20.
with experiments as (
    select
        *,
        {{ dbt.length('variants') }} - {{ dbt.length(dbt.replace('variants', "'|'", "''")) }} + 1
            as variant_count
    from {{ ref('experiments') }}
),

split as (
    {% for position in range(1, 21) -%}
    select
        experiment_id,
        {{ position }} as variant_index,
        {{ dbt.split_part('variants', "'|'", position) }} as variant,
        cast({{ dbt.split_part('weights', "'|'", position) }} as {{ type_double() }}) as weight,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        primary_metric
    from experiments
    where variant_count >= {{ position }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
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
        max(variant_index) over (partition by experiment_id) = variant_index as is_last,
        start_date,
        end_date,
        primary_metric
    from split
)

select * from final
