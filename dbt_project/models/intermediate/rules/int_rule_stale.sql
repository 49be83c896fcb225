-- STALE (song): a child record never reviewed (no review date at all), or last reviewed more than 365 days
-- before the as-of date. A review date that is present but invalid (unparseable or in the future) is
-- DATE_INVALID and compares nothing: the record was reviewed, we cannot say when, so it is not STALE.
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

final as (
    select
        source,
        source_record_id,
        'STALE' as rule_code,
        commune_code
    from records
    where source = 'children'
        and (
            not coalesce(reviewed_on_present, false)
            or {{ days_between('reviewed_on', as_of()) }} > 365
        )
)

select * from final
