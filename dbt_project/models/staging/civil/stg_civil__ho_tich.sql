with

source as (
    select * from {{ source('civil', 'ho_tich') }}
),

renamed as (
    select
        'civil' as source,
        trim(id) as source_record_id,
        ho_ten as full_name,
        ngay_sinh as birth_date_raw,
        {{ parse_date('ngay_sinh', [fmt_ymd()]) }} as birth_date_parsed,
        {{ sex_code('gioi_tinh') }} as sex,
        so_dinh_danh as id_raw,
        ngay_dang_ky as registered_on_raw,
        {{ parse_date('ngay_dang_ky', [fmt_ymd()]) }} as registered_on_parsed,
        -- noi_dang_ky is a code of the list in force on ngay_dang_ky
        {{ civil_commune_current('noi_dang_ky', parse_date('ngay_dang_ky', [fmt_ymd()])) }}
            as commune_code_current_raw,
        {{ civil_commune_old('noi_dang_ky', parse_date('ngay_dang_ky', [fmt_ymd()])) }}
            as commune_code_old_raw,
        {{ parse_timestamp('cap_nhat_luc', fmt_timestamps()) }} as updated_at,
        cap_nhat_luc as updated_at_raw,
        {{ as_of() }} as as_of,
        upper({{ trim_to_null('loai') }}) as entry_type,
        {{ trim_to_null('quyen_so') }} as book_number,
        {{ trim_to_null('so_dang_ky') }} as entry_number,
        upper({{ trim_to_null('trang_thai_so_hoa') }}) as digitisation_status,
        ngay_chet as death_date_raw,
        {{ parse_date('ngay_chet', [fmt_ymd()]) }} as death_date_parsed,
        {{ normalize_vn_name('ho_ten_cha') }} as father_name_norm,
        {{ normalize_vn_name('ho_ten_me') }} as mother_name_norm,
        {{ normalize_vn_name('ho_ten_2') }} as spouse_name_norm,
        {{ clean_id('so_dinh_danh_2') }} as spouse_id_clean
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
        entry_type,
        digitisation_status,
        {{ valid_date('death_date_parsed') }} as death_date,
        {{ date_present('death_date_raw') }} as death_date_present,
        {{ date_invalid('death_date_raw', 'death_date_parsed') }} as death_date_invalid,
        {{ valid_date('registered_on_parsed') }} as registered_on,
        {{ date_present('registered_on_raw') }} as registered_on_present,
        {{ date_invalid('registered_on_raw', 'registered_on_parsed') }} as registered_on_invalid,
        book_number,
        entry_number,
        father_name_norm,
        mother_name_norm,
        {{ unaccent_vn('mother_name_norm') }} as mother_name_unaccented,
        spouse_name_norm,
        spouse_id_clean
    from communes_resolved
)

select * from final
