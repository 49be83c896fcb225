{#-
  The common part of the person-like sector staging models (stg_vaccination__doi_tuong, stg_social__beneficiary,
  stg_civil__ho_tich, stg_children__tre_em), kept in one place so that the four views expose exactly the same
  interface (docs/internal-contracts.md, "Staging interface").
-#}

{#-
  The person-like staging models are built in two parts (issue 9): the as_of-free, costly normalisation of each
  source-row version, kept in an incremental `<model>_versions` table (macros/staging_versions.sql), and the
  night's part (the as_of date, seeds) applied over tonight's state.

  normalise_person_version: a select over `relation` adding the as_of-free normalised person columns.
  `relation` must have: full_name (raw name), id_raw (raw text). Dates are left parsed and unfiltered.
-#}
{% macro normalise_person_version(relation) -%}
    select
        ids.*,
        case when ids.id12 is not null then {{ id12_birth_year('ids.id12') }} end as id_birth_year,
        case when ids.id12 is not null then {{ id12_sex('ids.id12') }} end as id_sex
    from (
        select
            {{ placed_name_forms('names') }},
            {{ classify_id('names.id_clean', 'names.id_raw') }} as id_kind,
            case
                when {{ classify_id('names.id_clean', 'names.id_raw') }} in ('id12', 'repaired12')
                    then {{ repair_id12('names.id_clean') }}
            end as id12,
            {{ id9('names.id_clean') }} as id9
        from (
            select
                src.*,
                name_forms.name_norm,
                {{ id_present('src.id_raw') }} as id_raw_present,
                {{ clean_id('src.id_raw') }} as id_clean,
                {{ carried_name_forms('name_forms') }}
            from {{ relation }} as src
            {{ join_name_forms(relation, 'src', 'full_name', 'name_forms') }}
        ) as names
    ) as ids
{%- endmacro %}


{#-
  One row per distinct value of `name_column` in `relation` (`raw_name`, NULL included) with its normalised forms:
  name_norm, name_unaccented, name_has_diacritics, family_name, middle_name, given_name. A province has far
  fewer distinct names than records (1.5 M citizens, 98 k distinct names), and these forms depend on the raw
  name alone: normalising each distinct name once and joining them back costs a quarter of normalising every
  row (1.78 -> 0.44 CPU s for 1.5 M names; bench/results/speed_staging.md, round 3).
-#}
{% macro name_forms(relation, name_column) -%}
    select
        raw_name,
        name_norm,
        {{ unaccent_vn('name_norm') }} as name_unaccented,
        name_norm <> {{ unaccent_vn('name_norm') }} as name_has_diacritics,
        {{ name_family('name_norm') }} as family_name,
        {{ name_middle('name_norm') }} as middle_name,
        {{ name_given('name_norm') }} as given_name
    from (
        select raw_name, {{ normalize_vn_name('raw_name') }} as name_norm
        from (select distinct {{ name_column }} as raw_name from {{ relation }} as named) as distinct_names
    ) as normalised
{%- endmacro %}


{#-
  The night's part over normalised versions (`relation`, with birth_date_raw and birth_date_parsed): the birth
  date against the as-of date, the ID prefix against the seed, the night (as_of).
-#}
{% macro person_night_columns(relation) -%}
    select
        src.*,
        {{ valid_date('src.birth_date_parsed') }} as birth_date,
        {{ date_present('src.birth_date_raw') }} as birth_date_present,
        {{ date_invalid('src.birth_date_raw', 'src.birth_date_parsed') }} as birth_date_invalid,
        case when src.id12 is not null then prefixes.id_prefix is not null end as id_prefix_valid,
        {{ as_of() }} as as_of
    from {{ relation }} as src
    left join {{ ref('id_province_codes') }} as prefixes
        on {{ id12_prefix('src.id12') }} = prefixes.id_prefix
{%- endmacro %}


{#- the common interface columns, in contract order (select list of the `final` CTE) -#}
{% macro person_record_columns() -%}
        source,
        source_record_id,
        full_name,
        name_norm,
        name_unaccented,
        name_has_diacritics,
        family_name,
        middle_name,
        given_name,
        birth_date,
        birth_date_present,
        birth_date_invalid,
        sex,
        id_raw_present,
        id_clean,
        id_kind,
        id12,
        id9,
        id_prefix_valid,
        id_birth_year,
        id_sex,
        commune_code_current_raw,
        commune_code_old_raw,
        commune_code,
        commune_status,
        updated_at,
        as_of
{%- endmacro %}



{#-
  The name forms after name_norm (unaccented, diacritics, the three parts) are carried through a subquery under
  `_`-prefixed names (carried_name_forms), then placed after the columns computed beside name_norm
  (placed_name_forms): the versions tables keep the column order they had when these were computed in place.
-#}
{% macro carried_name_forms(forms_alias) -%}
    {%- for column in _name_form_columns() -%}
        {{ forms_alias }}.{{ column }} as _{{ column }}{{ ",\n" if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{% macro placed_name_forms(alias) -%}
    {{ alias }}.* exclude (_{{ _name_form_columns() | join(', _') }})
    {%- for column in _name_form_columns() -%}
        , {{ alias }}._{{ column }} as {{ column }}
    {%- endfor -%}
{%- endmacro %}

{% macro _name_form_columns() -%}
    {{ return(['name_unaccented', 'name_has_diacritics', 'family_name', 'middle_name', 'given_name']) }}
{%- endmacro %}


{#- `left join` of the normalised forms of `alias.name_column` (macro name_forms) as `forms_alias` -#}
{% macro join_name_forms(relation, alias, name_column, forms_alias) -%}
    left join ({{ name_forms(relation, name_column) }}) as {{ forms_alias }}
        on {{ alias }}.{{ name_column }} is not distinct from {{ forms_alias }}.raw_name
{%- endmacro %}
