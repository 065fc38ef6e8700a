with source as (
    select * from (
        {{ thelook_with_ingested('orders', 'order_id', ['order_id', 'user_id', 'status', 'gender', 'created_at', 'shipped_at', 'delivered_at', 'returned_at', 'num_of_item']) }}
    ) as source_rows
    where {{ not_erased('source_rows.user_id') }}
),

renamed as (
    select
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(user_id as {{ dbt.type_bigint() }}) as user_id,
        status,
        gender,
        {{ to_timestamp('created_at') }} as created_at,
        {{ to_timestamp('shipped_at') }} as shipped_at,
        {{ to_timestamp('delivered_at') }} as delivered_at,
        {{ to_timestamp('returned_at') }} as returned_at,
        cast(num_of_item as {{ dbt.type_int() }}) as item_count,
        -- When the order last changed (its newest milestone: an order's status follows them)
        -- and when a shop sent it (null for thelook's rows): what incremental models look back on.
        {{ latest_of(to_timestamp('created_at'), [to_timestamp('shipped_at'), to_timestamp('delivered_at'), to_timestamp('returned_at')]) }} as changed_at,
        {{ to_timestamp('_ingested_at') }} as ingested_at
    from source
)

select * from renamed
