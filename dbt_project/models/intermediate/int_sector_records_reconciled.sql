{#-
  Each sector record with its link and the summary of its findings: which criteria it fails, and whether it
  is reconciled — linked, no finding of criterion dung or sach, and no FIELD_MISSING (the other du findings,
  e.g. LEGACY_ID_ONLY or NOT_DIGITISED, and the song findings do not stop a record being reconciled). Records
  rejected at ingestion are here too, unlinked, with their ROW_REJECTED finding.
-#}
with

loaded as (
    select * from {{ ref('int_sector_records_linked') }}
),

-- sector records ingestion could not load: each is still a record of the night (not linked, ROW_REJECTED)
rejected as (
    select * from {{ ref('stg_ingest__rejected_rows') }}
    where record_kind = 'record'
),

records as (
    select
        source, source_record_id, personal_id, match_method, match_probability, commune_code, is_linked,
        id_kind, id_clean, beneficiary_status, pay_method, bank_account, digitisation_status
    from loaded
    union all
    select
        source,
        source_record_id,
        cast(null as varchar) as personal_id,
        'none' as match_method,
        cast(null as double) as match_probability,
        cast(null as varchar) as commune_code,
        false as is_linked,
        cast(null as varchar) as id_kind,
        cast(null as varchar) as id_clean,
        cast(null as varchar) as beneficiary_status,
        cast(null as varchar) as pay_method,
        cast(null as varchar) as bank_account,
        cast(null as varchar) as digitisation_status
    from rejected
),

findings as (
    select * from {{ ref('int_findings_unioned') }}
),

record_findings as (
    select
        source,
        source_record_id,
        count(*) as n_findings,
        max(case when criterion = 'dung' then 1 else 0 end) = 1 as fails_dung,
        max(case when criterion = 'du' then 1 else 0 end) = 1 as fails_du,
        max(case when criterion = 'sach' then 1 else 0 end) = 1 as fails_sach,
        max(case when criterion = 'song' then 1 else 0 end) = 1 as fails_song,
        max(case when rule_code = 'FIELD_MISSING' then 1 else 0 end) = 1 as has_field_missing
    from findings
    where source <> 'population'
    group by source, source_record_id
),

joined as (
    select
        records.source,
        records.source_record_id,
        records.personal_id,
        records.match_method,
        records.match_probability,
        records.commune_code,
        records.is_linked,
        records.id_kind,
        coalesce(records.id_clean = records.personal_id, false) as own_id_is_linked_id,
        records.beneficiary_status,
        records.pay_method,
        records.bank_account,
        records.digitisation_status,
        coalesce(record_findings.n_findings, 0) as n_findings,
        coalesce(record_findings.fails_dung, false) as fails_dung,
        coalesce(record_findings.fails_du, false) as fails_du,
        coalesce(record_findings.fails_sach, false) as fails_sach,
        coalesce(record_findings.fails_song, false) as fails_song,
        coalesce(record_findings.has_field_missing, false) as has_field_missing
    from records
    left join record_findings
        on records.source = record_findings.source
        and records.source_record_id = record_findings.source_record_id
),

final as (
    select
        *,
        is_linked
        and not fails_dung
        and not fails_sach
        and not has_field_missing as is_reconciled
    from joined
)

select * from final
