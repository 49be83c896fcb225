-- a reconciled record is linked and has no dung/sach finding and no FIELD_MISSING (tonight)
with

reconciled as (
    select * from {{ ref('fct_reconciliation') }}
    where as_of = {{ as_of() }} and is_reconciled
),

findings as (
    select * from {{ ref('fct_findings') }}
    where as_of = {{ as_of() }}
        and (criterion in ('dung', 'sach') or rule_code = 'FIELD_MISSING')
)

select reconciled.source, reconciled.source_record_id
from reconciled
left join findings
    on reconciled.source = findings.source
    and reconciled.source_record_id = findings.source_record_id
where reconciled.personal_id is null
    or findings.rule_code is not null
