{#-
  Generic test: every column-level invariant of a model in ONE scan (a dbt test per column re-scans the model,
  and a test on a staging view re-runs its whole normalisation). Same semantics as dbt's built-in tests:
    not_null: [col, ...]                        rows where col is NULL
    unique: [col, ...]                          non-NULL values seen more than once (rows beyond the first)
    accepted_values: {col: [v, ...], ...}       non-NULL values outside the list
    relationships: [{column, to, field}, ...]   non-NULL values absent from `to`.`field`
    unique_combinations: [[col, ...], ...]      rows beyond the first of each combination (NULLs equal)
    night_only: true                            only tonight's rows (as_of = the night): marts keep every night
  Fails with one row per broken invariant: (invariant, failing_rows).
-#}
{% test column_invariants(
    model,
    not_null=[],
    unique=[],
    accepted_values={},
    relationships=[],
    unique_combinations=[],
    night_only=false
) %}

{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append(("not_null(" ~ column ~ ")", "count(*) filter (where " ~ column ~ " is null)")) -%}
{%- endfor -%}
{%- for column in unique -%}
    {%- do checks.append(("unique(" ~ column ~ ")", "count(" ~ column ~ ") - count(distinct " ~ column ~ ")")) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}{%- do quoted.append("'" ~ value ~ "'") -%}{%- endfor -%}
    {%- do checks.append((
        "accepted_values(" ~ column ~ ")",
        "count(*) filter (where " ~ column ~ " is not null and cast(" ~ column ~ " as varchar) not in ("
            ~ quoted | join(", ") ~ "))"
    )) -%}
{%- endfor -%}
{%- for rel in relationships -%}
    {%- do checks.append((
        "relationships(" ~ rel.column ~ ")",
        "count(*) filter (where " ~ rel.column ~ " is not null and " ~ rel.column ~ " not in (select "
            ~ rel.field ~ " from " ~ ref(rel.to) ~ " where " ~ rel.field ~ " is not null))"
    )) -%}
{%- endfor -%}
{%- for columns in unique_combinations -%}
    {%- do checks.append((
        "unique_combination(" ~ columns | join(", ") ~ ")",
        "count(*) - count(distinct (" ~ columns | join(", ") ~ ",))"
    )) -%}
{%- endfor -%}

with

checked as (
    select * from {{ model }}
    {%- if night_only %}
    where as_of = {{ as_of() }}
    {%- endif %}
),

counts as (
    select
    {%- for name, expression in checks %}
        cast({{ expression }} as bigint) as "{{ name }}"{{ "," if not loop.last }}
    {%- endfor %}
    from checked
)

select invariant, failing_rows
from (unpivot counts on columns(*) into name invariant value failing_rows)
where failing_rows > 0

{% endtest %}
