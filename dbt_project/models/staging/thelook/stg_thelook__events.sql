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
        event_type,
        -- When the row last changed (events never change after they happen) and when a shop
        -- sent it (null for thelook's rows): what incremental models look back on.
        {{ to_timestamp('created_at') }} as changed_at,
        {{ to_timestamp('_ingested_at') }} as ingested_at
    from source
)

select * from renamed
