with source as (
    select * from {{ source('thelook', 'events') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as event_id,
        cast(user_id as {{ dbt.type_bigint() }}) as user_id,
        cast(sequence_number as {{ dbt.type_int() }}) as sequence_number,
        session_id,
        {{ to_timestamp('created_at') }} as created_at,
        ip_address,
        city,
        state,
        postal_code,
        browser,
        traffic_source,
        uri,
        event_type
    from source
)

select * from renamed
