-- COMMUNE_OUTDATED (song): vaccination, social, children: the current-code column is empty and the old one
-- holds a valid pre-2025 code, mapped through the crosswalk. Civil entries keep the code in force when they
-- were registered, so they are never outdated.
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

final as (
    select
        source,
        source_record_id,
        'COMMUNE_OUTDATED' as rule_code,
        commune_code
    from records
    where commune_status = 'mapped_old'
        and source in ('vaccination', 'social', 'children')
)

select * from final
