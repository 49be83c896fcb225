{#-
  Links made by an ID alone. A record's own 12-digit ID (as given, or repaired from 10/11 digits by
  restoring lost leading zeros) that is a master personal_id links by `personal_id`; otherwise its 9-digit
  CMND links by `legacy_id` when exactly one master person holds that legacy_id9. One row per linked record.
-#}
{{ config(materialized='view') }}
-- a view: read once, through int_record_links (2.1 M rows at province: a table less to write each night)
with

records as (
    select
        source,
        source_record_id,
        id_kind,
        id12,
        id9
    from {{ ref('int_sector_records_unioned') }}
),

citizens as (
    select personal_id from {{ ref('int_citizens_aged') }}
),

legacy_ids as (
    select
        legacy_id9,
        personal_id
    from {{ ref('int_legacy_ids_resolved') }}
    where is_unique
),

by_personal_id as (
    select
        records.source,
        records.source_record_id,
        citizens.personal_id,
        'personal_id' as match_method
    from records
    inner join citizens
        on records.id12 = citizens.personal_id
    where records.id_kind in ('id12', 'repaired12')
),

by_legacy_id as (
    select
        records.source,
        records.source_record_id,
        legacy_ids.personal_id,
        'legacy_id' as match_method
    from records
    inner join legacy_ids
        on records.id9 = legacy_ids.legacy_id9
    where records.id_kind = 'cmnd9'
),

unioned as (
    select * from by_personal_id
    union all
    select * from by_legacy_id
),

final as (
    select
        source,
        source_record_id,
        personal_id,
        match_method,
        cast(1.0 as double) as match_probability
    from unioned
)

select * from final
