-- RESIDENCE_MISMATCH (song): vaccination, social, children: the record's resolved current commune (its own
-- current code, or its old code mapped through the crosswalk) differs from the linked master person's
-- commune. Needs a commune on both sides.
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

final as (
    select
        source,
        source_record_id,
        'RESIDENCE_MISMATCH' as rule_code,
        commune_code
    from records
    where is_linked
        and source in ('vaccination', 'social', 'children')
        and commune_code <> master_commune_code
)

select * from final
