-- ID_MISSING (du): a sector record with no ID of any kind in its own ID column.
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

final as (
    select
        source,
        source_record_id,
        'ID_MISSING' as rule_code,
        commune_code
    from records
    where id_kind = 'missing'
)

select * from final
