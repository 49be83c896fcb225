-- tonight's fct_reconciliation holds each sector record exactly once (loaded or rejected at ingestion), and no
-- record that staging lacks
with

tonight as (
    select source, source_record_id
    from {{ ref('fct_reconciliation') }}
    where as_of = {{ as_of() }}
),

records as (
    select source, source_record_id from {{ ref('int_sector_records_unioned') }}
    union all
    select source, source_record_id from {{ ref('stg_ingest__rejected_rows') }}
    where record_kind = 'record'
),

counted as (
    select
        coalesce(records.source, tonight.source) as source,
        coalesce(records.source_record_id, tonight.source_record_id) as source_record_id,
        count(tonight.source_record_id) as n_in_mart,
        count(records.source_record_id) as n_in_staging
    from records
    full outer join tonight
        on records.source = tonight.source
        and records.source_record_id = tonight.source_record_id
    group by 1, 2
)

select * from counted
where n_in_mart <> 1 or n_in_staging <> 1
