{#-
  Select from a relation that another process may or may not have written (the Splink linkage asset writes
  intermediate.linkage_probabilistic). When the relation exists: `select <columns> from it`. When it does not:
  an empty relation with the same typed columns, so that everything downstream compiles and runs.
  `columns` is a list of (name, sql type) pairs.
-#}
{% macro select_from_optional_relation(schema, identifier, columns) -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=schema, identifier=identifier) -%}
    {%- if relation is not none %}
    select
        {%- for name, type in columns %}
        cast({{ name }} as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- else %}
    select
        {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where 1 = 0
    {%- endif -%}
{%- endmacro %}
