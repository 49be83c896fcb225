{#-
  What changed since the previous kept night (OUTPUTS.md): one row per (record, rule) that fails tonight or
  failed on the previous night, with its status (new / open / fixed / gone) and the first night of its unbroken
  run of failing nights. Incremental by as_of like the other marts: a rerun of a night replaces its slice and
  compares with the latest night before it, whatever came after.

  * The previous night is the latest earlier night in the marts (fct_indicators or fct_findings) that is not
    known to be unfinished: when meta.night_status exists, a night with a status row other than published /
    complete (a failed or running night, whose marts may be partial) is skipped.
  * fixed vs gone: does the record still exist at its source tonight? Sector records: tonight's
    fct_reconciliation (one row per sector record, rejected rows included). Citizens: tonight's staging of the
    master (keyed by personal ID) and its rejected citizen rows. Households (the household rules): tonight's
    households, the household IDs the citizens carry (a household of members only also has findings), and its
    rejected household rows. A master row rejected at ingestion (ROW_REJECTED) is a citizen or a household:
    its key found among either is enough.
  * first_seen_as_of: tonight for `new`; otherwise the previous slice of this table for that (record, rule), or,
    when that slice lacks it (first run of this model, a night never built with it), the earliest night of the
    unbroken run ending on the previous night, computed from fct_findings over the kept nights.
-#}

{%- set status_relation = none -%}
{%- set pruned_relation = none -%}
{%- if execute -%}
{%- set status_relation = adapter.get_relation(
    database=target.database, schema='meta', identifier='night_status'
) -%}
{#- nights whose record-level rows were removed (assets/retention.py): no findings to compare with -#}
{%- set pruned_relation = adapter.get_relation(
    database=target.database, schema='meta', identifier='pruned_nights'
) -%}
{%- endif %}

with

-- the nights in the marts: their `as_of` columns only (never a whole night's rows)
marts_nights as (
    select distinct as_of from {{ ref('fct_indicators') }}
    union
    select distinct as_of from {{ ref('fct_findings') }}
),

kept_nights as (
    select marts_nights.as_of
    from marts_nights
    {%- if status_relation is not none %}
    left join {{ status_relation }} as night_status
        on marts_nights.as_of = night_status.as_of
    where (night_status.as_of is null
        or night_status.status in ('published', 'complete'))
    {%- endif %}
    {%- if pruned_relation is not none %}
        {{ 'and' if status_relation is not none else 'where' }} marts_nights.as_of not in (
            select pruned.as_of from {{ pruned_relation }} as pruned
        )
    {%- endif %}
),

previous_night as (
    select max(as_of) as previous_as_of
    from kept_nights
    where as_of < {{ as_of() }}
),

-- one night's slice of fct_findings each, not the whole history: tonight and the previous night
tonight as (
    {{ findings_of_night(as_of()) }}
),

previous as (
    {{ findings_of_night('(select previous_night.previous_as_of from previous_night)') }}
),

household_rules as (
    select rule_code from {{ ref('rules') }}
    where applies_to like '%household%'
),

rejected as (
    select * from {{ ref('stg_ingest__rejected_rows') }}
),

compared as (
    select
        coalesce(tonight.source, previous.source) as source,
        coalesce(tonight.source_record_id, previous.source_record_id) as source_record_id,
        coalesce(tonight.rule_code, previous.rule_code) as rule_code,
        coalesce(tonight.criterion, previous.criterion) as criterion,
        coalesce(tonight.commune_code, previous.commune_code) as commune_code,
        tonight.rule_code is not null as fails_tonight,
        previous.rule_code is not null as failed_before
    from tonight
    full outer join previous
        on tonight.source = previous.source
        and tonight.source_record_id = previous.source_record_id
        and tonight.rule_code = previous.rule_code
),

-- the keys of the findings that failed the previous night and not tonight: only theirs are looked up below
no_longer_failing as (
    select distinct compared.source, compared.source_record_id
    from compared
    where compared.failed_before and not compared.fails_tonight
),

-- the records that exist at their source tonight, by kind: sector records, citizens, households (of those keys)
existing as (
    select reconciliation.source, reconciliation.source_record_id, 'record' as record_kind
    from {{ ref('fct_reconciliation') }} as reconciliation
    inner join no_longer_failing
        on reconciliation.source = no_longer_failing.source
        and reconciliation.source_record_id = no_longer_failing.source_record_id
    where reconciliation.as_of = {{ as_of() }}
    union
    select 'population' as source, citizens.personal_id as source_record_id, 'citizen' as record_kind
    from {{ ref('stg_population__citizen') }} as citizens
    inner join no_longer_failing
        on no_longer_failing.source = 'population'
        and citizens.personal_id = no_longer_failing.source_record_id
    union
    select 'population' as source, households.household_id as source_record_id, 'household' as record_kind
    from {{ ref('stg_population__household') }} as households
    inner join no_longer_failing
        on no_longer_failing.source = 'population'
        and households.household_id = no_longer_failing.source_record_id
    union
    select 'population' as source, citizens.household_id as source_record_id, 'household' as record_kind
    from {{ ref('stg_population__citizen') }} as citizens
    inner join no_longer_failing
        on no_longer_failing.source = 'population'
        and citizens.household_id = no_longer_failing.source_record_id
    union
    select rejected.source, rejected.source_record_id, rejected.record_kind
    from rejected
    inner join no_longer_failing
        on rejected.source = no_longer_failing.source
        and rejected.source_record_id = no_longer_failing.source_record_id
    where rejected.record_kind in ('citizen', 'household')
),

-- a rejected master row (ROW_REJECTED) may be a citizen or a household: any population key will do
existing_keys as (
    select source, source_record_id, record_kind from existing
    union
    select source, source_record_id, 'any_population' as record_kind from existing
    where source = 'population'
),

kinded as (
    select
        compared.*,
        case
            when compared.source <> 'population' then 'record'
            when compared.rule_code = 'ROW_REJECTED' then 'any_population'
            when compared.rule_code in (select household_rules.rule_code from household_rules) then 'household'
            else 'citizen'
        end as record_kind
    from compared
),

classified as (
    select
        kinded.source,
        kinded.source_record_id,
        kinded.rule_code,
        kinded.criterion,
        kinded.commune_code,
        case
            when kinded.fails_tonight and kinded.failed_before then 'open'
            when kinded.fails_tonight then 'new'
            when existing.source_record_id is not null then 'fixed'
            else 'gone'
        end as status
    from kinded
    left join existing_keys as existing
        on kinded.failed_before
        and not kinded.fails_tonight
        and kinded.source = existing.source
        and kinded.source_record_id = existing.source_record_id
        and kinded.record_kind = existing.record_kind
),

-- first seen, from the previous slice of this table (the usual case)
{%- if is_incremental() %}
previous_slice as (
    select changes.source, changes.source_record_id, changes.rule_code, changes.first_seen_as_of
    from {{ this }} as changes
    inner join previous_night
        on changes.as_of = previous_night.previous_as_of
),
{%- else %}
previous_slice as (
    select
        cast(null as varchar) as source,
        cast(null as varchar) as source_record_id,
        cast(null as varchar) as rule_code,
        cast(null as date) as first_seen_as_of
    where false
),
{%- endif %}

carried as (
    select
        classified.*,
        previous_slice.first_seen_as_of as carried_first_seen
    from classified
    left join previous_slice
        on classified.source = previous_slice.source
        and classified.source_record_id = previous_slice.source_record_id
        and classified.rule_code = previous_slice.rule_code
),

-- otherwise: the unbroken run of kept nights up to the previous night, from fct_findings (gaps and islands)
night_numbers as (
    select as_of, row_number() over (order by as_of) as night_number
    from kept_nights
    where as_of <= (select previous_night.previous_as_of from previous_night)
),

needing_history as (
    select source, source_record_id, rule_code
    from carried
    where status <> 'new' and carried_first_seen is null
),

history as (
    select
        findings.source,
        findings.source_record_id,
        findings.rule_code,
        findings.as_of,
        night_numbers.night_number
        - row_number() over (
            partition by findings.source, findings.source_record_id, findings.rule_code
            order by findings.as_of
        ) as run_id
    from {{ ref('fct_findings') }} as findings
    inner join night_numbers
        on findings.as_of = night_numbers.as_of
    inner join needing_history
        on findings.source = needing_history.source
        and findings.source_record_id = needing_history.source_record_id
        and findings.rule_code = needing_history.rule_code
),

runs as (
    select source, source_record_id, rule_code, run_id, min(as_of) as run_start, max(as_of) as run_end
    from history
    group by source, source_record_id, rule_code, run_id
),

last_runs as (
    select runs.source, runs.source_record_id, runs.rule_code, runs.run_start
    from runs
    inner join previous_night
        on runs.run_end = previous_night.previous_as_of
),

final as (
    select
        {{ as_of() }} as as_of,
        (select previous_night.previous_as_of from previous_night) as previous_as_of,
        carried.source,
        carried.source_record_id,
        carried.rule_code,
        carried.criterion,
        carried.commune_code,
        carried.status,
        case
            when carried.status = 'new' then {{ as_of() }}
            else coalesce(carried.carried_first_seen, last_runs.run_start)
        end as first_seen_as_of
    from carried
    left join last_runs
        on carried.source = last_runs.source
        and carried.source_record_id = last_runs.source_record_id
        and carried.rule_code = last_runs.rule_code
)

select * from final
