{#-
  What to write back to each sector: linked records whose source lacks the correct 12-digit ID — a 9-digit
  CMND linked through the master (LEGACY_ID_ONLY), a 10/11-digit ID repaired to a master personal_id
  (ID_MALFORMED), and every probabilistic link (all rows of the linkage relation are above the accept
  threshold; their records had no usable ID). `reason` says which. Incremental by as_of.
-#}

with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

legacy_ids as (
    select legacy_id9 from {{ ref('int_legacy_ids_resolved') }}
),

to_enrich as (
    select
        records.source,
        records.source_record_id,
        records.personal_id,
        records.match_method,
        records.match_probability,
        records.commune_code,
        case
            when records.match_method = 'legacy_id' then 'LEGACY_ID_ONLY'
            when records.id_kind in ('repaired12', 'malformed') then 'ID_MALFORMED'
            when records.id_kind = 'missing' then 'ID_MISSING'
            when records.id_kind = 'cmnd9' and legacy_ids.legacy_id9 is not null then 'LEGACY_ID_AMBIGUOUS'
            else 'ID_UNKNOWN'
        end as reason
    from records
    left join legacy_ids
        on records.id9 = legacy_ids.legacy_id9
    where records.match_method = 'legacy_id'
        or (records.match_method = 'personal_id' and records.id_kind = 'repaired12')
        or records.match_method = 'probabilistic'
),

final as (
    select
        source,
        source_record_id,
        personal_id as proposed_personal_id,
        match_method,
        match_probability,
        {{ as_of() }} as as_of,
        reason,
        commune_code
    from to_enrich
)

select * from final
