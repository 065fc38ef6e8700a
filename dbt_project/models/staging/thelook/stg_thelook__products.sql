with source as (
    select * from {{ source('thelook', 'products') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as product_id,
        cast(cost as {{ type_double() }}) as cost,
        category,
        name as product_name,
        brand,
        cast(retail_price as {{ type_double() }}) as retail_price,
        department,
        sku,
        cast(distribution_center_id as {{ dbt.type_bigint() }}) as distribution_center_id
    from source
)

select * from renamed
