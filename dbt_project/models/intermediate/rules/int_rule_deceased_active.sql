-- DECEASED_ACTIVE (song): an ACTIVE social beneficiary, or any child record, linked to a person the master
-- says is DECEASED or RENOUNCED (gave up Vietnamese nationality).
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

final as (
    select
        source,
        source_record_id,
        'DECEASED_ACTIVE' as rule_code,
        commune_code
    from records
    where is_linked
        and master_status in ('DECEASED', 'RENOUNCED')
        and (
            (source = 'social' and beneficiary_status = 'ACTIVE')
            or source = 'children'
        )
)

select * from final
