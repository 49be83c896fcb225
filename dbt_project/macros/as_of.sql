{#-
  the night being reconciled, as a SQL date literal expression.
  var('as_of') (YYYY-MM-DD, passed by Dagster; default env DOISOAT_AS_OF); when empty, today in
  Asia/Ho_Chi_Minh, computed at compile time so that every model of one run sees the same night.
-#}
{% macro as_of() -%}
    {%- set v = (var('as_of', '') or '') | string | trim -%}
    {%- if v == '' or v == 'None' -%}
        {%- set v = modules.datetime.datetime.now(modules.pytz.timezone('Asia/Ho_Chi_Minh')).strftime('%Y-%m-%d') -%}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', v) -%}
        {{ exceptions.raise_compiler_error("var as_of must be YYYY-MM-DD, got '" ~ v ~ "'") }}
    {%- endif -%}
    cast('{{ v }}' as date)
{%- endmacro %}

{#- the province var as text ('' when not given: the caller derives it from the master) -#}
{% macro province_code() -%}
    {%- set v = (var('province_code', '') or '') | string | trim -%}
    {{- '' if v == 'None' else v -}}
{%- endmacro %}
