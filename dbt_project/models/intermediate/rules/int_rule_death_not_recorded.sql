-- DEATH_NOT_RECORDED (song): a civil death entry (KHAI_TU) is linked to the person, by any method, but the
-- master status is exactly ALIVE (a RENOUNCED or missing status is not "alive").
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

death_entries as (
    select distinct personal_id
    from records
    where source = 'civil'
        and entry_type = 'KHAI_TU'
        and is_linked
),

final as (
    select
        'population' as source,
        citizens.personal_id as source_record_id,
        'DEATH_NOT_RECORDED' as rule_code,
        citizens.commune_code
    from citizens
    inner join death_entries
        on citizens.personal_id = death_entries.personal_id
    where citizens.status = 'ALIVE'
)

select * from final
