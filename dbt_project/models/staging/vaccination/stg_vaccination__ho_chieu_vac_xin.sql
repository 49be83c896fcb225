with

source as (
    select * from {{ source('vaccination', 'ho_chieu_vac_xin') }}
),

renamed as (
    select
        trim(ma_doi_tuong) as source_record_id,
        ngay_ky as signed_on_raw,
        {{ parse_date('ngay_ky', [fmt_ymd()]) }} as signed_on_parsed,
        {{ as_of() }} as as_of
    from source
),

final as (
    select
        source_record_id,
        {{ valid_date('signed_on_parsed') }} as signed_on,
        {{ date_invalid('signed_on_raw', 'signed_on_parsed') }} as signed_on_invalid,
        as_of
    from renamed
)

select * from final
