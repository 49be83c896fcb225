{#- date and timestamp parsing. Formats are strftime-style; each adapter maps them to its own parser. -#}

{#- the formats the sources use -#}
{% macro fmt_dmy() %}{{ return('%d/%m/%Y') }}{% endmacro %}
{% macro fmt_ymd() %}{{ return('%Y-%m-%d') }}{% endmacro %}
{% macro fmt_timestamps() %}{{ return(['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d']) }}{% endmacro %}


{#- the first format that parses the trimmed value, as a timestamp; NULL when none does (or the year has < 4 digits) -#}
{% macro parse_timestamp(col, formats) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'doisoat')(col, formats)) }}
{%- endmacro %}

{% macro default__parse_timestamp(col, formats) -%}
    {{ exceptions.raise_compiler_error("parse_timestamp has no implementation for adapter " ~ adapter.type() ~ ": add " ~ adapter.type() ~ "__parse_timestamp in macros/dates.sql") }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(col, formats) -%}
    {%- if formats is string -%}{%- set formats = [formats] -%}{%- endif -%}
    {%- set parsed -%}
        try_strptime(trim({{ col }}), [{% for f in formats %}'{{ f }}'{{ ', ' if not loop.last }}{% endfor %}])
    {%- endset -%}
    (case when year({{ parsed }}) >= 1000 then {{ parsed }} end)
{%- endmacro %}


{#- as parse_timestamp, cut to the date -#}
{% macro parse_date(col, formats) -%}
    cast({{ parse_timestamp(col, formats) }} as date)
{%- endmacro %}


{#- a date value is present (non-empty after trim) -#}
{% macro date_present(col) -%}
    coalesce(trim({{ col }}) <> '', false)
{%- endmacro %}

{#- present but unparseable or after the as-of date; `parsed` is the parse_date expression of col -#}
{% macro date_invalid(col, parsed) -%}
    ({{ date_present(col) }} and ({{ parsed }} is null or {{ parsed }} > {{ as_of() }}))
{%- endmacro %}

{#- the parsed date, NULL when unparseable or after the as-of date -#}
{% macro valid_date(parsed) -%}
    case when {{ parsed }} <= {{ as_of() }} then {{ parsed }} end
{%- endmacro %}


{#-
  The master's partial dates: YYYY-MM-DD, YYYY-MM or YYYY. parse_partial_date gives the first day of the
  period; partial_date_precision gives day / month / year (NULL when unparseable).
-#}
{% macro partial_date_precision(col) -%}
    case
        when {{ regexp_like('trim(' ~ col ~ ')', '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') }}
            and {{ parse_date(col, [fmt_ymd()]) }} is not null then 'day'
        when {{ regexp_like('trim(' ~ col ~ ')', '^[0-9]{4}-[0-9]{2}$') }}
            and {{ parse_date("trim(" ~ col ~ ") || '-01'", [fmt_ymd()]) }} is not null then 'month'
        when {{ regexp_like('trim(' ~ col ~ ')', '^[0-9]{4}$') }}
            and {{ parse_date("trim(" ~ col ~ ") || '-01-01'", [fmt_ymd()]) }} is not null then 'year'
    end
{%- endmacro %}

{% macro parse_partial_date(col) -%}
    case
        when {{ regexp_like('trim(' ~ col ~ ')', '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') }}
            then {{ parse_date(col, [fmt_ymd()]) }}
        when {{ regexp_like('trim(' ~ col ~ ')', '^[0-9]{4}-[0-9]{2}$') }}
            then {{ parse_date("trim(" ~ col ~ ") || '-01'", [fmt_ymd()]) }}
        when {{ regexp_like('trim(' ~ col ~ ')', '^[0-9]{4}$') }}
            then {{ parse_date("trim(" ~ col ~ ") || '-01-01'", [fmt_ymd()]) }}
    end
{%- endmacro %}
