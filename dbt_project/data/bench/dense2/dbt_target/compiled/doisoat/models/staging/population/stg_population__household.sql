with

source as (
    select * from "warehouse"."raw"."population__household"
),

renamed as (
    select
        trim(household_id) as household_id,
        nullif(trim(commune_code), '') as commune_code,
        nullif(trim(address_line), '') as address_line,
        (case when year(try_strptime(trim(updated_at), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d'])) >= 1000 then try_strptime(trim(updated_at), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d']) end) as updated_at,
        cast('2026-11-25' as date) as as_of
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
    left join "warehouse"."reference"."admin_communes" as communes
        on renamed.commune_code = communes.commune_code
)

select * from final