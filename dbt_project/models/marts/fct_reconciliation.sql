{#-
  One row per sector record of the night: its link to the master, its resolved current commune, and whether
  it is reconciled (linked, no finding of criterion dung or sach, no FIELD_MISSING). Incremental by as_of:
  a rerun of a night replaces that night's rows only (pre-hook delete_night).
-#}

with

records as (
    select * from {{ ref('int_sector_records_reconciled') }}
),

final as (
    select
        source,
        source_record_id,
        personal_id,
        match_method,
        match_probability,
        commune_code,
        is_reconciled,
        {{ as_of() }} as as_of,
        is_linked,
        id_kind,
        own_id_is_linked_id,
        n_findings,
        fails_dung,
        fails_du,
        fails_sach,
        fails_song
    from records
)

select * from final
