with

source as (
    select * from {{ source('vaccination', 'doi_tuong') }}
),

renamed as (
    select
        'vaccination' as source,
        trim(ma_doi_tuong) as source_record_id,
        ho_ten as full_name,
        ngay_sinh as birth_date_raw,
        {{ parse_date('ngay_sinh', [fmt_dmy()]) }} as birth_date_parsed,
        {{ sex_code('gioi_tinh') }} as sex,
        so_giay_to as id_raw,
        {{ trim_to_null('ma_xa') }} as commune_code_current_raw,
        {{ trim_to_null('ma_xa_cu') }} as commune_code_old_raw,
        {{ parse_timestamp('ngay_cap_nhat', fmt_timestamps()) }} as updated_at,
        ngay_cap_nhat as updated_at_raw,
        {{ as_of() }} as as_of
    from source
),

normalised as (
    {{ normalise_person_record('renamed') }}
),

communes_resolved as (
    {{ resolve_commune('normalised', 'commune_code_current_raw', 'commune_code_old_raw') }}
),

final as (
    select
        {{ person_record_columns() }},
        {{ date_invalid('updated_at_raw', 'cast(updated_at as date)') }} as updated_at_invalid
    from communes_resolved
)

select * from final
