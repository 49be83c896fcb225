{#- the as_of-free part is kept per source-row version (stg_vaccination__doi_tuong_versions); the night's here -#}
{%- set version_sql = stg_vaccination__doi_tuong_version('versions_source') -%}
with

source as (
    select * from {{ source('vaccination', 'doi_tuong') }}
),

{{ kept_versions_ctes(ref('stg_vaccination__doi_tuong_versions'), version_sql) }},

normalised as (
    {{ person_night_columns('versions') }}
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
