with

source as (
    select * from {{ source('children', 'tre_em') }}
),

renamed as (
    select
        'children' as source,
        trim(ma_tre) as source_record_id,
        ho_va_ten as full_name,
        ngay_sinh as birth_date_raw,
        -- two entry tools: dd/mm/yyyy or yyyy-mm-dd
        {{ parse_date('ngay_sinh', [fmt_dmy(), fmt_ymd()]) }} as birth_date_parsed,
        {{ sex_code('gioi_tinh') }} as sex,
        ma_dinh_danh as id_raw,
        {{ trim_to_null('ma_xa') }} as commune_code_current_raw,
        {{ trim_to_null('ma_xa_cu') }} as commune_code_old_raw,
        {{ parse_timestamp('cap_nhat', fmt_timestamps()) }} as updated_at,
        cap_nhat as updated_at_raw,
        {{ as_of() }} as as_of,
        ho_ten_me as mother_name,
        {{ normalize_vn_name('ho_ten_me') }} as mother_name_norm,
        {{ clean_id('cccd_me') }} as mother_id_clean,
        upper({{ trim_to_null('hoan_canh') }}) as circumstance,
        ngay_ra_soat as reviewed_on_raw,
        {{ parse_date('ngay_ra_soat', [fmt_ymd()]) }} as reviewed_on_parsed
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
        {{ date_invalid('updated_at_raw', 'cast(updated_at as date)') }} as updated_at_invalid,
        mother_name_norm,
        {{ unaccent_vn('mother_name_norm') }} as mother_name_unaccented,
        mother_id_clean,
        {{ classify_id('mother_id_clean') }} as mother_id_kind,
        {{ repair_id12('mother_id_clean') }} as mother_id12,
        circumstance,
        {{ valid_date('reviewed_on_parsed') }} as reviewed_on,
        {{ date_present('reviewed_on_raw') }} as reviewed_on_present,
        {{ date_invalid('reviewed_on_raw', 'reviewed_on_parsed') }} as reviewed_on_invalid
    from communes_resolved
)

select * from final
