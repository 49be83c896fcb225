with

source as (
    select * from {{ source('social', 'beneficiary') }}
),

renamed as (
    select
        'social' as source,
        trim(beneficiary_id) as source_record_id,
        full_name,
        dob as birth_date_raw,
        {{ parse_date('dob', [fmt_ymd()] + fmt_timestamps()) }} as birth_date_parsed,
        {{ sex_code('gender') }} as sex,
        id_number as id_raw,
        {{ trim_to_null('commune_code') }} as commune_code_current_raw,
        {{ trim_to_null('commune_code_old') }} as commune_code_old_raw,
        {{ parse_timestamp('updated_at', fmt_timestamps()) }} as updated_at,
        updated_at as updated_at_raw,
        {{ as_of() }} as as_of,
        upper({{ trim_to_null('category') }}) as category,
        upper({{ trim_to_null('pay_method') }}) as pay_method,
        {{ trim_to_null('bank_account') }} as bank_account,
        try_cast(trim(monthly_amount) as bigint) as monthly_amount,
        upper({{ trim_to_null('status') }}) as status
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
        status,
        category,
        pay_method,
        bank_account,
        monthly_amount
    from communes_resolved
)

select * from final
