-- FIELD_MISSING (du): a required field is empty. Sector records: name, birth date (empty — an unparseable
-- or future date is DATE_INVALID, not missing), sex, and a commune in either code column; social also
-- BANK_ACCOUNT when PAY_METHOD = ACCOUNT. Population: sex, ethnicity, birth_date (empty; a value that is
-- not a date is not empty), commune_code.
-- One finding per record however many fields are missing. A sex value that is neither Nam/Nữ nor 1/2
-- (M/F) reads as no sex. Civil: noi_dang_ky is the commune column; every entry type needs name, birth date
-- and sex of its subject.
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

sector_missing as (
    select
        source,
        source_record_id,
        commune_code
    from records
    where name_norm is null
        or not birth_date_present
        or sex is null
        or commune_status = 'missing'
        or (source = 'social' and pay_method = 'ACCOUNT' and nullif(trim(bank_account), '') is null)
),

population_missing as (
    select
        'population' as source,
        personal_id as source_record_id,
        commune_code
    from citizens
    where sex is null
        or nullif(trim(ethnicity), '') is null
        or not birth_date_present
        or commune_code is null
),

unioned as (
    select * from sector_missing
    union all
    select * from population_missing
),

final as (
    select
        source,
        source_record_id,
        'FIELD_MISSING' as rule_code,
        commune_code
    from unioned
)

select * from final
