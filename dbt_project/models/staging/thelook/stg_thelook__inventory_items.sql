with source as (
    select * from {{ source('thelook', 'inventory_items') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as inventory_item_id,
        cast(product_id as {{ dbt.type_bigint() }}) as product_id,
        {{ to_timestamp('created_at') }} as created_at,
        {{ to_timestamp('sold_at') }} as sold_at,
        -- Money fixed to the minor unit as booked (see stg_thelook__order_items).
        {{ to_money('cost') }} as cost,
        product_category,
        product_name,
        product_brand,
        {{ to_money('product_retail_price') }} as product_retail_price,
        product_department,
        product_sku,
        cast(product_distribution_center_id as {{ dbt.type_bigint() }}) as distribution_center_id
    from source
)

select * from renamed
