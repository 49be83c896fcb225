{#- the as_of-free part is kept per source-row version (stg_population__citizen_versions); the night's here -#}
{%- set version_sql = stg_population__citizen_version('versions_source') -%}
with

source as (
    select * from {{ source('population', 'citizen') }}
),

{{ kept_versions_ctes(ref('stg_population__citizen_versions'), version_sql) }},

normalised as (
    select
        *,
        -- a period starting after the as-of date is invalid, like a sector date
        {{ valid_date('birth_date_parsed') }} as birth_date,
        case when birth_date_parsed <= {{ as_of() }} then birth_date_precision_parsed end as birth_date_precision,
        {{ date_present('birth_date_raw') }} as birth_date_present,
        {{ date_invalid('birth_date_raw', 'birth_date_parsed') }} as birth_date_invalid,
        {{ as_of() }} as as_of
    from versions
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
