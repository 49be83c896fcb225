{#-
  Date arithmetic used by the rule models, behind dispatchable macros so that the rule SQL stays portable
  (DuckDB spells these differently from Spark or Trino).
-#}

{#- the date `n` whole years before `date_expr` (Feb 29 falls back to Feb 28) -#}
{% macro years_before(date_expr, n) -%}
    {{ return(adapter.dispatch('years_before', 'doisoat')(date_expr, n)) }}
{%- endmacro %}

{% macro default__years_before(date_expr, n) -%}
    cast({{ date_expr }} - interval '{{ n }}' year as date)
{%- endmacro %}

{#- whole days from `start_expr` to `end_expr` (positive when end is later) -#}
{% macro days_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('days_between', 'doisoat')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__days_between(start_expr, end_expr) -%}
    datediff('day', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}

{% macro duckdb__days_between(start_expr, end_expr) -%}
    date_diff('day', cast({{ start_expr }} as date), cast({{ end_expr }} as date))
{%- endmacro %}

{#-
  A timestamp whose date is after the as-of date (timestamps compare with the as-of date by their date:
  a change at 14:00 on the night's own day is not in the future). False when NULL.
-#}
{% macro timestamp_after_as_of(ts_expr) -%}
    coalesce(cast({{ ts_expr }} as date) > {{ as_of() }}, false)
{%- endmacro %}

{#-
  The record's update timestamp is invalid for DATE_INVALID: its date is after the as-of date, or — when the
  staging view exposes `updated_at_invalid` (present but unparseable) — that flag. Checked against the
  relation's columns at run time, so the rule picks the flag up as soon as staging provides it.
-#}
{% macro updated_at_invalid(relation) -%}
    {%- set has_flag = false -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- set has_flag = 'updated_at_invalid' in names -%}
    {%- endif -%}
    {%- if has_flag -%}
        (coalesce(updated_at_invalid, false) or {{ timestamp_after_as_of('updated_at') }})
    {%- else -%}
        {{ timestamp_after_as_of('updated_at') }}
    {%- endif -%}
{%- endmacro %}
