with

source as (
    select * from {{ source('population', 'household') }}
),

renamed as (
    select
        trim(household_id) as household_id,
        {{ trim_to_null('commune_code') }} as commune_code,
        {{ trim_to_null('address_line') }} as address_line,
        {{ parse_timestamp('updated_at', fmt_timestamps()) }} as updated_at,
        {{ as_of() }} as as_of
    from source
),

final as (
    select
        renamed.household_id,
        renamed.commune_code,
        case
            when renamed.commune_code is null then 'missing'
            when communes.commune_code is not null then 'current'
            else 'unknown'
        end as commune_status,
        renamed.address_line,
        renamed.updated_at,
        renamed.as_of
    from renamed
    left join {{ ref('admin_communes') }} as communes
        on renamed.commune_code = communes.commune_code
)

select * from final
