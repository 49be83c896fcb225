{#-
  Generic test of int_indicator_units (a view of ~25 M rows at province) in ONE streaming pass, grouped by
  indicator (a few dozen groups): not_null(indicator_code, unit_id, in_numerator), relationships(indicator_code
  -> reference.indicators), and every indicator's units come from one unit list (`unit_list`).
  The last one stands for unique(indicator_code, unit_id), which cost a hash of every (indicator, unit) pair
  (5.5 CPU s at province): each unit list holds a record or citizen once, because its keys are unique upstream
  (int_sector_records_reconciled: unique (source, source_record_id); int_citizens_checked: unique personal_id;
  the passports are distinct), so units of one list are unique per indicator; two lists under one code (a named
  indicator also driven by a criterion in reference.indicators, or a code spelt twice) are caught here.
  Fails with one row per broken invariant: (invariant, failing_rows).
-#}
{% test indicator_units_invariants(model) %}

with

per_indicator as (
    select
        indicator_code,
        count(*) as n_units,
        count(case when unit_id is null then 1 end) as null_unit_ids,
        count(case when in_numerator is null then 1 end) as null_numerators,
        min(unit_list) as first_list,
        max(unit_list) as last_list,
        count(case when unit_list is null then 1 end) as null_lists
    from {{ model }}
    group by indicator_code
),

indicators as (
    select indicator_code from {{ ref('indicators') }}
    where indicator_code is not null
),

failures as (
    select 'not_null(indicator_code)' as invariant, sum(n_units) as failing_rows
    from per_indicator
    where indicator_code is null
    union all
    select 'not_null(unit_id)' as invariant, sum(null_unit_ids) as failing_rows
    from per_indicator
    union all
    select 'not_null(in_numerator)' as invariant, sum(null_numerators) as failing_rows
    from per_indicator
    union all
    select 'relationships(indicator_code)' as invariant, sum(n_units) as failing_rows
    from per_indicator
    where indicator_code is not null
        and indicator_code not in (select indicators.indicator_code from indicators)
    union all
    select 'unique(indicator_code, unit_id): one unit list per indicator' as invariant, sum(n_units) as failing_rows
    from per_indicator
    where first_list <> last_list or null_lists > 0
)

select invariant, failing_rows
from failures
where failing_rows > 0

{% endtest %}
