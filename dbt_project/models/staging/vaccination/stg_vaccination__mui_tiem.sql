with

source as (
    select * from {{ source('vaccination', 'mui_tiem') }}
),

renamed as (
    select
        trim(ma_mui) as dose_id,
        trim(ma_doi_tuong) as source_record_id,
        upper({{ trim_to_null('ma_vac_xin') }}) as vaccine_code,
        try_cast(trim(mui_thu) as integer) as dose_number,
        ngay_tiem as dose_date_raw,
        {{ parse_date('ngay_tiem', [fmt_dmy()]) }} as dose_date_parsed,
        {{ trim_to_null('co_so_tiem') }} as facility,
        {{ as_of() }} as as_of
    from source
),

final as (
    select
        dose_id,
        source_record_id,
        vaccine_code,
        dose_number,
        {{ valid_date('dose_date_parsed') }} as dose_date,
        {{ date_present('dose_date_raw') }} as dose_date_present,
        {{ date_invalid('dose_date_raw', 'dose_date_parsed') }} as dose_date_invalid,
        facility,
        as_of
    from renamed
)

select * from final
