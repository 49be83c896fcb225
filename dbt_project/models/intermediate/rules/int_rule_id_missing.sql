-- ID_MISSING (du): a sector record with no ID of any kind in its own ID column (so_giay_to, ID_NUMBER,
-- so_dinh_danh, ma_dinh_danh; never the mother's cccd_me or the wife's so_dinh_danh_2). Every civil entry
-- counts, paper-only (CHUA_SO_HOA) ones included: the entry still lacks the subject's ID.
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
