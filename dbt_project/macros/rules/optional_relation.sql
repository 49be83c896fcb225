{#-
  Select from a relation that another process may or may not have written (the Splink linkage asset writes
  intermediate.linkage_probabilistic and intermediate.linkage_review). When the relation exists:
  `select <columns> from it`, restricted to the night being built when it has an `as_of` column (so that a
  relation left over from an earlier night never links tonight's records). When it does not exist: an empty
  relation with the same typed columns, so that everything downstream compiles and runs.
  `columns` is a list of (name, sql type) pairs.
-#}
{% macro select_from_optional_relation(schema, identifier, columns) -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=schema, identifier=identifier) -%}
    {%- if relation is not none %}
    {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list %}
    select
        {%- for name, type in columns %}
        cast({{ name }} as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- if 'as_of' in present %}
    where cast(as_of as date) = {{ as_of() }}
    {%- endif %}
    {%- else %}
    select
        {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where 1 = 0
    {%- endif -%}
{%- endmacro %}
