{#-
  Personal IDs (DOMAIN.md): 12 digits = 3 birth-province digits, 1 sex/century digit, 2 birth-year digits,
  6 random. The old CMND has 9 digits. Cleaning removes spaces and dots, nothing else.
-#}

{#- spaces and dots removed; NULL when nothing is left -#}
{% macro clean_id(col) -%}
    nullif(replace(replace({{ col }}, ' ', ''), '.', ''), '')
{%- endmacro %}

{#- an ID value is present: non-empty after trim -#}
{% macro id_present(col) -%}
    coalesce(trim({{ col }}) <> '', false)
{%- endmacro %}

{#-
  id12 (12 digits), repaired12 (10 or 11 digits: a 12-digit ID that lost its leading zeros), cmnd9 (9 digits),
  malformed (anything else present), missing (no value). raw_col, when given, decides presence (so that a value
  of only spaces and dots is malformed, not missing).
-#}
{% macro classify_id(clean_col, raw_col=none) -%}
    case
        {%- if raw_col is not none %}
        when not {{ id_present(raw_col) }} then 'missing'
        when {{ clean_col }} is null then 'malformed'
        {%- else %}
        when {{ clean_col }} is null then 'missing'
        {%- endif %}
        when {{ regexp_like(clean_col, '^[0-9]{12}$') }} then 'id12'
        when {{ regexp_like(clean_col, '^[0-9]{10,11}$') }} then 'repaired12'
        when {{ regexp_like(clean_col, '^[0-9]{9}$') }} then 'cmnd9'
        else 'malformed'
    end
{%- endmacro %}

{#- the 12-digit value of a cleaned ID of 10 to 12 digits (left-padded with zeros), else NULL -#}
{% macro repair_id12(clean_col) -%}
    case when {{ regexp_like(clean_col, '^[0-9]{10,12}$') }} then lpad({{ clean_col }}, 12, '0') end
{%- endmacro %}

{#- the 9-digit CMND of a cleaned ID, else NULL -#}
{% macro id9(clean_col) -%}
    case when {{ regexp_like(clean_col, '^[0-9]{9}$') }} then {{ clean_col }} end
{%- endmacro %}

{#- digits 1-3 of a 12-digit ID: the birth-registration province (one of the 63 pre-2025 codes) -#}
{% macro id12_prefix(id12_col) -%}
    substr({{ id12_col }}, 1, 3)
{%- endmacro %}

{#- digit 4 of a 12-digit ID -> century of birth: 0/1 1900, 2/3 2000, 4/5 2100, 6/7 2200, 8/9 2300 -#}
{% macro id12_century(id12_col) -%}
    case substr({{ id12_col }}, 4, 1)
        when '0' then 1900 when '1' then 1900
        when '2' then 2000 when '3' then 2000
        when '4' then 2100 when '5' then 2100
        when '6' then 2200 when '7' then 2200
        when '8' then 2300 when '9' then 2300
    end
{%- endmacro %}

{#- the value is a 12-digit ID (digits only): every decoding below is guarded by it -#}
{% macro is_id12(col) -%}
    coalesce({{ regexp_like(col, '^[0-9]{12}$') }}, false)
{%- endmacro %}

{#- birth year decoded from digits 4-6 of a 12-digit ID; NULL when the value is not 12 digits -#}
{% macro id12_birth_year(id12_col) -%}
    case when {{ is_id12(id12_col) }}
        then {{ id12_century(id12_col) }} + {{ dbt.safe_cast('substr(' ~ id12_col ~ ', 5, 2)', api.Column.translate_type('integer')) }}
    end
{%- endmacro %}

{#- sex decoded from digit 4 of a 12-digit ID: even M, odd F -#}
{% macro id12_sex(id12_col) -%}
    case
        when not {{ is_id12(id12_col) }} then null
        when substr({{ id12_col }}, 4, 1) in ('0', '2', '4', '6', '8') then 'M'
        when substr({{ id12_col }}, 4, 1) in ('1', '3', '5', '7', '9') then 'F'
    end
{%- endmacro %}

{#-
  the first three digits are one of the 63 ID province codes (NULL when there is no 12-digit ID). Scalar form
  for convenience; the staging views join ref('id_province_codes') instead (IN-subqueries inside expressions
  are not portable to Spark).
-#}
{% macro id12_prefix_valid(id12_col) -%}
    case
        when {{ id12_col }} is not null
            then {{ id12_prefix(id12_col) }} in (select id_prefix from {{ ref('id_province_codes') }})
    end
{%- endmacro %}
