-- ID_MALFORMED (sach): an ID is present but, cleaned of spaces and dots, is neither 12 nor 9 digits.
-- 10/11-digit values repaired to a 12-digit ID (lost leading zeros) are malformed too, linked or not.
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

final as (
    select
        source,
        source_record_id,
        'ID_MALFORMED' as rule_code,
        commune_code
    from records
    where id_kind in ('malformed', 'repaired12')
)

select * from final
