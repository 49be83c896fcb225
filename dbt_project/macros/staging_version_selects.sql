{#-
  The as_of-free part of each person-like staging model (macros/staging_versions.sql): a select over
  `relation` (a source table's rows, with `_hash`) of `_hash` and every column that depends only on the row's
  raw values. Nothing here may read the as-of date, a seed or another table: it is kept per version, and only
  this text (through its md5) invalidates what is kept. The night's part is in the models.
-#}

{% macro stg_vaccination__doi_tuong_version(relation) -%}
    {%- set renamed -%}
    (
        select
            _hash,
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
            ngay_cap_nhat as updated_at_raw
        from {{ relation }}
    )
    {%- endset -%}
    {{ normalise_person_version(renamed) }}
{%- endmacro %}


{#- DOB and UPDATED_AT raw as read: the night's quarantine rows (loaded as NULL) are applied in the model -#}
{% macro stg_social__beneficiary_version(relation) -%}
    {%- set renamed -%}
    (
        select
            _hash,
            'social' as source,
            trim(beneficiary_id) as source_record_id,
            full_name,
            dob as dob_raw,
            {{ parse_date('dob', [fmt_ymd()] + fmt_timestamps()) }} as birth_date_parsed,
            {{ sex_code('gender') }} as sex,
            id_number as id_raw,
            {{ trim_to_null('commune_code') }} as commune_code_current_raw,
            {{ trim_to_null('commune_code_old') }} as commune_code_old_raw,
            {{ parse_timestamp('updated_at', fmt_timestamps()) }} as updated_at,
            updated_at as updated_at_read,
            upper({{ trim_to_null('category') }}) as category,
            upper({{ trim_to_null('pay_method') }}) as pay_method,
            {{ trim_to_null('bank_account') }} as bank_account,
            try_cast(trim(monthly_amount) as bigint) as monthly_amount,
            upper({{ trim_to_null('status') }}) as status
        from {{ relation }}
    )
    {%- endset -%}
    {{ normalise_person_version(renamed) }}
{%- endmacro %}


{% macro stg_civil__ho_tich_version(relation) -%}
    {%- set renamed -%}
    (
        select
            _hash,
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
            upper({{ trim_to_null('loai') }}) as entry_type,
            {{ trim_to_null('quyen_so') }} as book_number,
            {{ trim_to_null('so_dang_ky') }} as entry_number,
            upper({{ trim_to_null('trang_thai_so_hoa') }}) as digitisation_status,
            ngay_chet as death_date_raw,
            {{ parse_date('ngay_chet', [fmt_ymd()]) }} as death_date_parsed,
            fathers.name_norm as father_name_norm,
            mothers.name_norm as mother_name_norm,
            spouses.name_norm as spouse_name_norm,
            {{ clean_id('so_dinh_danh_2') }} as spouse_id_clean,
            mothers.name_unaccented as _mother_name_unaccented
        from {{ relation }} as entries
        {{ join_name_forms(relation, 'entries', 'ho_ten_cha', 'fathers') }}
        {{ join_name_forms(relation, 'entries', 'ho_ten_me', 'mothers') }}
        {{ join_name_forms(relation, 'entries', 'ho_ten_2', 'spouses') }}
    )
    {%- endset -%}
    select
        person.* exclude (_mother_name_unaccented),
        person._mother_name_unaccented as mother_name_unaccented
    from ({{ normalise_person_version(renamed) }}) as person
{%- endmacro %}


{% macro stg_children__tre_em_version(relation) -%}
    {%- set renamed -%}
    (
        select
            _hash,
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
            ho_ten_me as mother_name,
            mothers.name_norm as mother_name_norm,
            {{ clean_id('cccd_me') }} as mother_id_clean,
            upper({{ trim_to_null('hoan_canh') }}) as circumstance,
            ngay_ra_soat as reviewed_on_raw,
            {{ parse_date('ngay_ra_soat', [fmt_ymd()]) }} as reviewed_on_parsed,
            mothers.name_unaccented as _mother_name_unaccented
        from {{ relation }} as records
        {{ join_name_forms(relation, 'records', 'ho_ten_me', 'mothers') }}
    )
    {%- endset -%}
    select
        person.* exclude (_mother_name_unaccented),
        person._mother_name_unaccented as mother_name_unaccented,
        {{ classify_id('person.mother_id_clean') }} as mother_id_kind,
        {{ repair_id12('person.mother_id_clean') }} as mother_id12
    from ({{ normalise_person_version(renamed) }}) as person
{%- endmacro %}


{#- the master: the name, the partial birth date and the ID decoded; the as-of checks are in the model -#}
{% macro stg_population__citizen_version(relation) -%}
    select
        {{ placed_name_forms('renamed') }},
        -- NULL when there is no legacy ID; false when present but not 9 digits (LEGACY_ID_MALFORMED)
        case when legacy_id9 is not null then {{ regexp_like('legacy_id9', '^[0-9]{9}$') }} end as legacy_id9_valid,
        -- a master key that is not a 12-digit ID is PERSONAL_ID_MALFORMED and links nobody
        {{ is_id12('personal_id') }} as personal_id_valid,
        {{ id12_birth_year('personal_id') }} as id_birth_year,
        {{ id12_sex('personal_id') }} as id_sex
    from (
        select
            _hash,
            trim(personal_id) as personal_id,
            full_name,
            name_forms.name_norm,
            birth_date as birth_date_raw,
            {{ parse_partial_date('birth_date') }} as birth_date_parsed,
            {{ partial_date_precision('birth_date') }} as birth_date_precision_parsed,
            {{ sex_code('sex') }} as sex,
            {{ trim_to_null('ethnicity') }} as ethnicity,
            {{ trim_to_null('commune_code') }} as commune_code,
            {{ trim_to_null('household_id') }} as household_id,
            upper({{ trim_to_null('relation_to_head') }}) as relation_to_head,
            {{ trim_to_null('legacy_id9') }} as legacy_id9,
            {{ trim_to_null('father_id') }} as father_id,
            {{ trim_to_null('mother_id') }} as mother_id,
            upper({{ trim_to_null('status') }}) as status,
            death_date as death_date_raw,
            {{ parse_date('death_date', [fmt_ymd()]) }} as death_date_parsed,
            {{ parse_timestamp('updated_at', fmt_timestamps()) }} as updated_at,
            {{ carried_name_forms('name_forms') }}
        from {{ relation }} as src
        {{ join_name_forms(relation, 'src', 'full_name', 'name_forms') }}
    ) as renamed
{%- endmacro %}
