-- ID_UNKNOWN (dung): a well-formed ID (12 digits as given, or 9 digits) that no master person has as
-- personal_id / legacy_id9. A repaired 10/11-digit value is malformed, not well-formed: it is ID_MALFORMED
-- and, when no master person has it, NOT_LINKED, but never ID_UNKNOWN. A 9-digit number held by two master
-- persons is known (just ambiguous), so it is not ID_UNKNOWN either.
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

citizens as (
    select personal_id from {{ ref('int_citizens_aged') }}
),

legacy_ids as (
    select legacy_id9 from {{ ref('int_legacy_ids_resolved') }}
),

unknown_id12 as (
    select records.*
    from records
    left join citizens
        on records.id12 = citizens.personal_id
    where records.id_kind = 'id12'
        and citizens.personal_id is null
),

unknown_id9 as (
    select records.*
    from records
    left join legacy_ids
        on records.id9 = legacy_ids.legacy_id9
    where records.id_kind = 'cmnd9'
        and legacy_ids.legacy_id9 is null
),

unknown as (
    select source, source_record_id, commune_code from unknown_id12
    union all
    select source, source_record_id, commune_code from unknown_id9
),

final as (
    select
        source,
        source_record_id,
        'ID_UNKNOWN' as rule_code,
        commune_code
    from unknown
)

select * from final
