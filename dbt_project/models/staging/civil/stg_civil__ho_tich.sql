{#- the as_of-free part is kept per source-row version (stg_civil__ho_tich_versions); the night's here -#}
{%- set version_sql = stg_civil__ho_tich_version('versions_source') -%}
with

source as (
    select * from {{ source('civil', 'ho_tich') }}
),

{{ kept_versions_ctes(ref('stg_civil__ho_tich_versions'), version_sql) }},

normalised as (
    {{ person_night_columns('versions') }}
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
        mother_name_unaccented,
        spouse_name_norm,
        spouse_id_clean
    from communes_resolved
)

select * from final
