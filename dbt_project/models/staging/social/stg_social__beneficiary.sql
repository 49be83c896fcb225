{#- the as_of-free part is kept per source-row version (stg_social__beneficiary_versions); the night's here -#}
{%- set version_sql = stg_social__beneficiary_version('versions_source') -%}
with

source as (
    select * from {{ source('social', 'beneficiary') }}
),

{{ kept_versions_ctes(ref('stg_social__beneficiary_versions'), version_sql) }},

-- values ingestion loaded as NULL because they were not of their column's type (raw._quarantine, disposition
-- loaded): such a DOB or UPDATED_AT was present but invalid (DATE_INVALID), not missing (FIELD_MISSING)
nulled as (
    select
        source_record_id,
        ',' || column_name || ',' as columns_nulled
    from {{ source('ingest', 'quarantine') }}
    where source = 'social'
        and lower(table_name) = 'beneficiary'
        and disposition = 'loaded'
        and cast(_as_of as date) = {{ as_of() }}
),

with_nulled as (
    select
        versions.*,
        coalesce(versions.dob_raw, case when nulled.columns_nulled like '%,dob,%' then '(invalid at ingestion)' end)
            as birth_date_raw,
        coalesce(
            versions.updated_at_read,
            case when nulled.columns_nulled like '%,updated_at,%' then '(invalid at ingestion)' end
        ) as updated_at_raw
    from versions
    left join nulled
        on versions.source_record_id = nulled.source_record_id
),

normalised as (
    {{ person_night_columns('with_nulled') }}
),

communes_resolved as (
    {{ resolve_commune('normalised', 'commune_code_current_raw', 'commune_code_old_raw') }}
),

final as (
    select
        {{ person_record_columns() }},
        {{ date_invalid('updated_at_raw', 'cast(updated_at as date)') }} as updated_at_invalid,
        status,
        category,
        pay_method,
        bank_account,
        monthly_amount
    from communes_resolved
)

select * from final
