-- tonight's slice of fct_finding_changes against fct_findings: each (record, rule) once; new + open are exactly
-- tonight's findings; open + fixed + gone exactly the previous night's; the first night has only `new`; first
-- seen is tonight for new and no later than the previous night otherwise. Reads one night's slice (cheap).
with

changes as (
    select * from {{ ref('fct_finding_changes') }}
    where as_of = {{ as_of() }}
),

previous_night as (
    select max(previous_as_of) as previous_as_of, count(distinct coalesce(previous_as_of, as_of)) as n_previous
    from changes
),

tonight_findings as (
    select source, source_record_id, rule_code from {{ ref('fct_findings') }}
    where as_of = {{ as_of() }}
),

previous_findings as (
    select findings.source, findings.source_record_id, findings.rule_code
    from {{ ref('fct_findings') }} as findings
    inner join previous_night on findings.as_of = previous_night.previous_as_of
),

duplicates as (
    select 'duplicate (record, rule)' as problem, source, source_record_id, rule_code
    from changes
    group by source, source_record_id, rule_code
    having count(*) > 1
),

tonight_mismatch as (
    (
        select source, source_record_id, rule_code from changes where status in ('new', 'open')
        except
        select * from tonight_findings
    )
    union all
    (
        select * from tonight_findings
        except
        select source, source_record_id, rule_code from changes where status in ('new', 'open')
    )
),

previous_mismatch as (
    (
        select source, source_record_id, rule_code from changes where status in ('open', 'fixed', 'gone')
        except
        select * from previous_findings
    )
    union all
    (
        select * from previous_findings
        except
        select source, source_record_id, rule_code from changes where status in ('open', 'fixed', 'gone')
    )
),

bad_rows as (
    select 'bad status or first seen' as problem, source, source_record_id, rule_code
    from changes
    where (previous_as_of is null and status <> 'new')
        or (status = 'new' and first_seen_as_of <> as_of)
        or (status <> 'new' and (first_seen_as_of is null or first_seen_as_of > previous_as_of))
        or (previous_as_of is not null and previous_as_of >= as_of)
)

select * from duplicates
union all
select 'not tonight''s findings' as problem, * from tonight_mismatch
union all
select 'not the previous night''s findings' as problem, * from previous_mismatch
union all
select * from bad_rows
union all
select
    'more than one previous night' as problem,
    null as source,
    null as source_record_id,
    null as rule_code
from previous_night where n_previous > 1
