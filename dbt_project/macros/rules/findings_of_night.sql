{#-
  One night's findings from fct_findings (the columns fct_finding_changes compares), `night` a SQL date
  expression: a filter on as_of, so that DuckDB reads that night's row groups only, never the whole history.
-#}
{% macro findings_of_night(night) -%}
    select source, source_record_id, rule_code, criterion, commune_code
    from {{ ref('fct_findings') }}
    where as_of = {{ night }}
{%- endmacro %}
