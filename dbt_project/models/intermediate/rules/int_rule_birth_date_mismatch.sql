-- BIRTH_DATE_MISMATCH (dung): a linked record's (valid) birth date differs from the master's, compared at
-- the master's precision: a YYYY-MM master date compares year and month, a YYYY one the year only.
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

compared as (
    select
        *,
        case master_birth_date_precision
            when 'day' then birth_date <> master_birth_date
            when 'month'
                then extract(year from birth_date) <> extract(year from master_birth_date)
                    or extract(month from birth_date) <> extract(month from master_birth_date)
            when 'year' then extract(year from birth_date) <> extract(year from master_birth_date)
        end as differs
    from records
    where is_linked
        and birth_date is not null
        and master_birth_date is not null
),

final as (
    select
        source,
        source_record_id,
        'BIRTH_DATE_MISMATCH' as rule_code,
        commune_code
    from compared
    where differs
)

select * from final
