{#-
  Communes (OUTPUTS.md "Communes"). Two code lists reuse the same numbers for different units, so a code is
  only ever read in the list its column belongs to, and old codes reach the current list only through the
  crosswalk's default successor; never by number.
-#}

{#- the day the 2025 administrative reform took effect: civil codes from this day on are current codes -#}
{% macro reform_date() -%}
    cast('2025-07-01' as date)
{%- endmacro %}

{#-
  A select over `relation` adding commune_code and commune_status, from its columns current_col (the
  current-code column) and old_col (the pre-2025 code column), both already trimmed-to-NULL:
    current_col non-empty: a current commune (of any province) -> it, 'current'; anything else -> NULL, 'unknown'
    current_col empty, old_col a pre-2025 commune -> its default successor, 'mapped_old'
    current_col empty, old_col not a pre-2025 commune -> NULL, 'unknown'
    both empty -> NULL, 'missing'
  Use it as the body of a CTE: `resolved as ({{ resolve_commune('renamed', 'cur', 'old') }})`.
-#}
{% macro resolve_commune(relation, current_col, old_col) -%}
    select
        src.*,
        case
            when src.{{ current_col }} is not null then cur.commune_code
            when src.{{ old_col }} is not null then xw.new_commune_code
        end as commune_code,
        case
            when src.{{ current_col }} is not null and cur.commune_code is not null then 'current'
            when src.{{ current_col }} is not null then 'unknown'
            when src.{{ old_col }} is not null and xw.new_commune_code is not null then 'mapped_old'
            when src.{{ old_col }} is not null then 'unknown'
            else 'missing'
        end as commune_status
    from {{ relation }} as src
    left join {{ ref('admin_communes') }} as cur
        on src.{{ current_col }} = cur.commune_code
    left join {{ ref('admin_communes_legacy') }} as old
        on src.{{ current_col }} is null
        and src.{{ old_col }} = old.commune_code
    left join {{ ref('commune_crosswalk') }} as xw
        on old.commune_code = xw.old_commune_code
        and xw.is_default
{%- endmacro %}


{#-
  Civil registry: `noi_dang_ky` is a code of the list in force on `ngay_dang_ky`. These two expressions split it
  into the current-code / old-code columns that resolve_commune reads: from the reform date on a current code,
  before it (or when the registration date is unknown: the registry is overwhelmingly older) a pre-2025 code.
-#}
{% macro civil_commune_current(code_col, registered_on_col) -%}
    case when {{ registered_on_col }} >= {{ reform_date() }} then {{ trim_to_null(code_col) }} end
{%- endmacro %}

{% macro civil_commune_old(code_col, registered_on_col) -%}
    case when {{ registered_on_col }} is null or {{ registered_on_col }} < {{ reform_date() }}
        then {{ trim_to_null(code_col) }} end
{%- endmacro %}
