{#-
  Pre-hook of the incremental marts: delete the rows of the night being built, so that a rerun replaces that
  night (even when it now produces no rows at all) and leaves every other night untouched. No-op on the
  first build, when the table does not exist yet.
-#}
{% macro delete_night() -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing is not none and not flags.FULL_REFRESH -%}
        delete from {{ this }} where as_of = {{ as_of() }}
    {%- else -%}
        select 1 as noop
    {%- endif -%}
{%- endmacro %}
