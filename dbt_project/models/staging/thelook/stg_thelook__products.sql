with source as (
    select * from (
        {{ thelook_with_ingested('products', 'id', ['id', 'cost', 'category', 'name', 'brand', 'retail_price', 'department', 'sku', 'distribution_center_id']) }}
    ) as source_rows
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as product_id,
        -- Unit cost and price fixed to the minor unit as booked (see stg_thelook__order_items).
        {{ to_money('cost') }} as cost,
        category,
        name as product_name,
        brand,
        {{ to_money('retail_price') }} as retail_price,
        department,
        sku,
        cast(distribution_center_id as {{ dbt.type_bigint() }}) as distribution_center_id,
        -- When a shop sent the row (null for thelook's catalogue, which has no timestamps).
        {{ to_timestamp('_ingested_at') }} as ingested_at
    from source
)

select * from renamed
