with

source as (
    select * from {{ source('population', 'citizen') }}
),

renamed as (
    select
        trim(personal_id) as personal_id,
        full_name,
        {{ normalize_vn_name('full_name') }} as name_norm,
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
        {{ as_of() }} as as_of
    from source
),

normalised as (
    select
        *,
        {{ unaccent_vn('name_norm') }} as name_unaccented,
        name_norm <> {{ unaccent_vn('name_norm') }} as name_has_diacritics,
        {{ name_family('name_norm') }} as family_name,
        {{ name_middle('name_norm') }} as middle_name,
        {{ name_given('name_norm') }} as given_name,
        -- a period starting after the as-of date is invalid, like a sector date
        {{ valid_date('birth_date_parsed') }} as birth_date,
        case when birth_date_parsed <= {{ as_of() }} then birth_date_precision_parsed end as birth_date_precision,
        {{ date_present('birth_date_raw') }} as birth_date_present,
        {{ date_invalid('birth_date_raw', 'birth_date_parsed') }} as birth_date_invalid,
        -- NULL when there is no legacy ID; false when present but not 9 digits (LEGACY_ID_MALFORMED)
        case when legacy_id9 is not null then {{ regexp_like('legacy_id9', '^[0-9]{9}$') }} end as legacy_id9_valid,
        -- a master key that is not a 12-digit ID is PERSONAL_ID_MALFORMED and links nobody
        {{ is_id12('personal_id') }} as personal_id_valid,
        {{ id12_birth_year('personal_id') }} as id_birth_year,
        {{ id12_sex('personal_id') }} as id_sex
    from renamed
),

communes_checked as (
    select
        normalised.*,
        case
            when normalised.commune_code is null then 'missing'
            when communes.commune_code is not null then 'current'
            else 'unknown'
        end as commune_status,
        case when normalised.personal_id_valid then prefixes.id_prefix is not null end as id_prefix_valid
    from normalised
    left join {{ ref('admin_communes') }} as communes
        on normalised.commune_code = communes.commune_code
    left join {{ ref('id_province_codes') }} as prefixes
        on {{ id12_prefix('normalised.personal_id') }} = prefixes.id_prefix
),

final as (
    select
        personal_id,
        personal_id_valid,
        full_name,
        name_norm,
        name_unaccented,
        name_has_diacritics,
        family_name,
        middle_name,
        given_name,
        birth_date,
        birth_date_precision,
        year(birth_date) as birth_year,
        birth_date_present,
        birth_date_invalid,
        sex,
        ethnicity,
        commune_code,
        commune_status,
        household_id,
        relation_to_head,
        legacy_id9,
        legacy_id9_valid,
        father_id,
        mother_id,
        status,
        {{ valid_date('death_date_parsed') }} as death_date,
        {{ date_invalid('death_date_raw', 'death_date_parsed') }} as death_date_invalid,
        id_prefix_valid,
        id_birth_year,
        id_sex,
        updated_at,
        as_of
    from communes_checked
)

select * from final
