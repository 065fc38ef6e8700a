with source as (
    select * from (
        {{ thelook_with_ingested('events', 'id', ['id', 'user_id', 'sequence_number', 'session_id', 'created_at', 'browser', 'traffic_source', 'uri', 'event_type']) }}
    ) as source_rows
    where {{ not_erased('source_rows.user_id') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as event_id,
        cast(user_id as {{ dbt.type_bigint() }}) as user_id,
        cast(sequence_number as {{ dbt.type_int() }}) as sequence_number,
        session_id,
        {{ to_timestamp('created_at') }} as created_at,
        browser,
        traffic_source,
        uri,
        event_type
    from source
)

select * from renamed
