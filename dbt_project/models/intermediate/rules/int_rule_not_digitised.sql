-- NOT_DIGITISED (du): a civil register entry whose digitisation status is not DA_SO_HOA (typed in but not
-- checked, paper only, or no status at all).
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

final as (
    select
        source,
        source_record_id,
        'NOT_DIGITISED' as rule_code,
        commune_code
    from records
    where source = 'civil'
        and coalesce(digitisation_status, '') <> 'DA_SO_HOA'
)

select * from final
