with source as (
    select * from (
        {{ thelook_with_ingested('users', 'id', ['id', 'age', 'gender', 'country', 'traffic_source', 'created_at']) }}
    ) as source_rows
    where {{ not_erased('source_rows.id') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as user_id,
        cast(age as {{ dbt.type_int() }}) as age,
        gender,
        country,
        traffic_source,
        {{ to_timestamp('created_at') }} as created_at,
        -- When the row last changed and when a shop sent it (see stg_thelook__events).
        {{ to_timestamp('created_at') }} as changed_at,
        {{ to_timestamp('_ingested_at') }} as ingested_at
    from source
)

select * from renamed
