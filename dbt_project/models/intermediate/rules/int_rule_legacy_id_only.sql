-- LEGACY_ID_ONLY (du): the record gave only a 9-digit CMND, which linked through the master's legacy_id9;
-- the person's 12-digit ID should be written back (fct_enrichment).
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

final as (
    select
        source,
        source_record_id,
        'LEGACY_ID_ONLY' as rule_code,
        commune_code
    from records
    where match_method = 'legacy_id'
)

select * from final
