with source as (
    select * from {{ source('thelook', 'users') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as user_id,
        first_name,
        last_name,
        email,
        cast(age as {{ dbt.type_int() }}) as age,
        gender,
        state,
        street_address,
        postal_code,
        -- some exports spell a missing city as the text 'null'
        nullif(city, 'null') as city,
        country,
        cast(latitude as {{ type_double() }}) as latitude,
        cast(longitude as {{ type_double() }}) as longitude,
        traffic_source,
        {{ to_timestamp('created_at') }} as created_at
    from source
)

select * from renamed
