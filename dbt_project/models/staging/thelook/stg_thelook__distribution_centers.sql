with source as (
    select * from {{ source('thelook', 'distribution_centers') }}
),

renamed as (
    select
        cast(id as {{ dbt.type_bigint() }}) as distribution_center_id,
        name as distribution_center_name,
        cast(latitude as {{ type_double() }}) as latitude,
        cast(longitude as {{ type_double() }}) as longitude
    from source
)

select * from renamed
