with

source as (
    select * from {{ source('social', 'beneficiary') }}
),

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
        source.*,
        nulled.columns_nulled
    from source
    left join nulled
        on trim(source.beneficiary_id) = nulled.source_record_id
),

renamed as (
    select
        'social' as source,
        trim(beneficiary_id) as source_record_id,
        full_name,
        coalesce(dob, case when columns_nulled like '%,dob,%' then '(invalid at ingestion)' end)
            as birth_date_raw,
        {{ parse_date('dob', [fmt_ymd()] + fmt_timestamps()) }} as birth_date_parsed,
        {{ sex_code('gender') }} as sex,
        id_number as id_raw,
        {{ trim_to_null('commune_code') }} as commune_code_current_raw,
        {{ trim_to_null('commune_code_old') }} as commune_code_old_raw,
        {{ parse_timestamp('updated_at', fmt_timestamps()) }} as updated_at,
        coalesce(updated_at, case when columns_nulled like '%,updated_at,%' then '(invalid at ingestion)' end)
            as updated_at_raw,
        {{ as_of() }} as as_of,
        upper({{ trim_to_null('category') }}) as category,
        upper({{ trim_to_null('pay_method') }}) as pay_method,
        {{ trim_to_null('bank_account') }} as bank_account,
        try_cast(trim(monthly_amount) as bigint) as monthly_amount,
        upper({{ trim_to_null('status') }}) as status
    from with_nulled
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
        status,
        category,
        pay_method,
        bank_account,
        monthly_amount
    from communes_resolved
)

select * from final
