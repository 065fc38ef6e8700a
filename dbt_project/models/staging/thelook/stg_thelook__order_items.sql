with source as (
    select * from (
        {{ thelook_with_ingested('order_items', 'id', ['id', 'order_id', 'user_id', 'product_id', 'inventory_item_id', 'status', 'created_at', 'shipped_at', 'delivered_at', 'returned_at', 'sale_price']) }}
    ) as source_rows
    where {{ not_erased('source_rows.user_id') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as order_item_id,
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(user_id as {{ dbt.type_bigint() }}) as user_id,
        cast(product_id as {{ dbt.type_bigint() }}) as product_id,
        cast(inventory_item_id as {{ dbt.type_bigint() }}) as inventory_item_id,
        status,
        {{ to_timestamp('created_at') }} as created_at,
        {{ to_timestamp('shipped_at') }} as shipped_at,
        {{ to_timestamp('delivered_at') }} as delivered_at,
        {{ to_timestamp('returned_at') }} as returned_at,
        -- Fixed to the currency's minor unit here, once, as the invoice line states it: the
        -- source stores prices as floats (39.9900016784668), and every sum built on these
        -- decimals is then exact to the cent, whatever the grain it is summed at.
        {{ to_money('sale_price') }} as sale_price,
        -- Revenue counts what the shop keeps: cancelled and returned items do not count.
        status not in ('Cancelled', 'Returned') as is_revenue,
        -- When the item last changed and when a shop sent it (see stg_thelook__orders).
        {{ latest_of(to_timestamp('created_at'), [to_timestamp('shipped_at'), to_timestamp('delivered_at'), to_timestamp('returned_at')]) }} as changed_at,
        {{ to_timestamp('_ingested_at') }} as ingested_at
    from source
)

select * from renamed
