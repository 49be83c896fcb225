-- ROW_REJECTED (sach): the source row could not be loaded at ingestion (its key is empty, repeated, or not of
-- its type), so no other rule could read it. Sector records (source_record_id as in fct_reconciliation) and the
-- master's citizens and households; the quarantine (raw._quarantine) says why.
with

rejected as (
    select * from {{ ref('stg_ingest__rejected_rows') }}
    where record_kind in ('record', 'citizen', 'household')
),

final as (
    select
        source,
        source_record_id,
        'ROW_REJECTED' as rule_code,
        cast(null as varchar) as commune_code
    from rejected
)

select * from final
