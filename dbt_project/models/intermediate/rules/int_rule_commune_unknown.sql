-- COMMUNE_UNKNOWN (sach): staging resolved the record's commune columns to no commune: a non-empty
-- current-code column that is not a current commune, or (current empty) an old code that is not a pre-2025
-- commune; civil: noi_dang_ky not a commune of the list in force on ngay_dang_ky.
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

final as (
    select
        source,
        source_record_id,
        'COMMUNE_UNKNOWN' as rule_code,
        commune_code
    from records
    where commune_status = 'unknown'
)

select * from final
