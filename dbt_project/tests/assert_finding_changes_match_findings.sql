-- tonight's slice of fct_finding_changes against fct_findings: each (record, rule) once; new + open are exactly
-- tonight's findings; open + fixed + gone exactly the previous night's; the first night has only `new`; first
-- seen is tonight for new and no later than the previous night otherwise. Reads one night's slice of each (the
-- previous night's too) and groups their keys once.
with

changes as (
    select * from {{ ref('fct_finding_changes') }}
    where as_of = {{ as_of() }}
),

previous_night as (
    select max(previous_as_of) as previous_as_of, count(distinct coalesce(previous_as_of, as_of)) as n_previous
    from changes
),

-- every key of the three slices, with where it comes from
keys as (
    select
        source,
        source_record_id,
        rule_code,
        1 as in_changes,
        coalesce(status in ('new', 'open'), false) as fails_tonight,
        coalesce(status in ('open', 'fixed', 'gone'), false) as failed_before,
        false as in_tonight_findings,
        false as in_previous_findings
    from changes
    union all
    select
        source,
        source_record_id,
        rule_code,
        0 as in_changes,
        false as fails_tonight,
        false as failed_before,
        true as in_tonight_findings,
        false as in_previous_findings
    from {{ ref('fct_findings') }}
    where as_of = {{ as_of() }}
    union all
    select
        source,
        source_record_id,
        rule_code,
        0 as in_changes,
        false as fails_tonight,
        false as failed_before,
        false as in_tonight_findings,
        true as in_previous_findings
    from {{ ref('fct_findings') }}
    where as_of = (select previous_night.previous_as_of from previous_night)
),

per_key as (
    select
        source,
        source_record_id,
        rule_code,
        sum(in_changes) as n_changes,
        bool_or(fails_tonight) as fails_tonight,
        bool_or(failed_before) as failed_before,
        bool_or(in_tonight_findings) as in_tonight_findings,
        bool_or(in_previous_findings) as in_previous_findings
    from keys
    group by source, source_record_id, rule_code
),

mismatches as (
    select
        case
            when n_changes > 1 then 'duplicate (record, rule)'
            when fails_tonight <> in_tonight_findings then 'not tonight''s findings'
            else 'not the previous night''s findings'
        end as problem,
        source,
        source_record_id,
        rule_code
    from per_key
    where n_changes > 1
        or fails_tonight <> in_tonight_findings
        or failed_before <> in_previous_findings
),

bad_rows as (
    select 'bad status or first seen' as problem, source, source_record_id, rule_code
    from changes
    where (previous_as_of is null and status <> 'new')
        or (status = 'new' and first_seen_as_of <> as_of)
        or (status <> 'new' and (first_seen_as_of is null or first_seen_as_of > previous_as_of))
        or (previous_as_of is not null and previous_as_of >= as_of)
)

select * from mismatches
union all
select * from bad_rows
union all
select
    'more than one previous night' as problem,
    null as source,
    null as source_record_id,
    null as rule_code
from previous_night where n_previous > 1
