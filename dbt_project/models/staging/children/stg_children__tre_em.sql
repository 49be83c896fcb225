{#- the as_of-free part is kept per source-row version (stg_children__tre_em_versions); the night's here -#}
{%- set version_sql = stg_children__tre_em_version('versions_source') -%}
with

source as (
    select * from {{ source('children', 'tre_em') }}
),

{{ kept_versions_ctes(ref('stg_children__tre_em_versions'), version_sql) }},

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
        mother_name_norm,
        mother_name_unaccented,
        mother_id_clean,
        mother_id_kind,
        mother_id12,
        circumstance,
        {{ valid_date('reviewed_on_parsed') }} as reviewed_on,
        {{ date_present('reviewed_on_raw') }} as reviewed_on_present,
        {{ date_invalid('reviewed_on_raw', 'reviewed_on_parsed') }} as reviewed_on_invalid
    from communes_resolved
)

select * from final
