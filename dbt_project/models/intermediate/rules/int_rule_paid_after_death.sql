-- PAID_AFTER_DEATH (song): a social beneficiary linked to a person with a death date in the master, with a
-- payment paid strictly after that date — whatever the beneficiary's STATUS (and whatever the master's status:
-- the death date decides). A payment on the day of death, or with an invalid date, is no finding. One finding
-- per beneficiary however many payments.
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

payments as (
    select * from {{ ref('stg_social__payment') }}
),

paid_after_death as (
    select distinct
        records.source,
        records.source_record_id,
        records.commune_code
    from records
    inner join payments
        on records.source_record_id = payments.beneficiary_id
    where records.source = 'social'
        and records.is_linked
        and payments.paid_on > records.master_death_date
),

final as (
    select
        source,
        source_record_id,
        'PAID_AFTER_DEATH' as rule_code,
        commune_code
    from paid_after_death
)

select * from final
