{#-
  Vietnamese text normalisation. Every macro here is dispatched per adapter (adapter.dispatch) so that a
  Spark or Trino implementation can be added beside the duckdb__ one; default__ is portable SQL where one exists.
-#}

{#- Unicode NFC -#}
{% macro nfc_normalize(col) -%}
    {{ return(adapter.dispatch('nfc_normalize', 'doisoat')(col)) }}
{%- endmacro %}

{% macro default__nfc_normalize(col) -%}
    normalize({{ col }}, NFC)
{%- endmacro %}

{#-
  A text of only U+0000-U+02FF and U+1E00-U+1EFF is already NFC: every such character has canonical combining
  class 0, is its own NFC, and is no second element of a canonical composition (checked over every character
  and every pair of them with Python's unicodedata 14.0). Most names are such texts: the match (~0.1 CPU s per
  million) spares nfc_normalize (~0.4 s); province, 11.8 M name and sex values: 0 passed the match yet changed
  under nfc_normalize, 403,400 not NFC went to it (bench/results/speed_staging.md).
-#}
{% macro duckdb__nfc_normalize(col) -%}
    case when regexp_matches({{ col }}, '^[\x{0000}-\x{02FF}\x{1E00}-\x{1EFF}]*$') then {{ col }} else nfc_normalize({{ col }}) end
{%- endmacro %}


{#- replace every match of a regular expression (RE2 / Java syntax; no back-references in `replacement`) -#}
{% macro regexp_replace_all(col, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'doisoat')(col, pattern, replacement)) }}
{%- endmacro %}

{#- Spark, Trino: regexp_replace replaces every match -#}
{% macro default__regexp_replace_all(col, pattern, replacement) -%}
    regexp_replace({{ col }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro duckdb__regexp_replace_all(col, pattern, replacement) -%}
    regexp_replace({{ col }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro postgres__regexp_replace_all(col, pattern, replacement) -%}
    regexp_replace({{ col }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}


{#- true when the whole of col matches pattern (anchor the pattern with ^...$) -#}
{% macro regexp_like(col, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'doisoat')(col, pattern)) }}
{%- endmacro %}

{% macro default__regexp_like(col, pattern) -%}
    regexp_like({{ col }}, '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regexp_like(col, pattern) -%}
    regexp_matches({{ col }}, '{{ pattern }}')
{%- endmacro %}


{#- trimmed text, NULL when empty -#}
{% macro trim_to_null(col) -%}
    nullif(trim({{ col }}), '')
{%- endmacro %}


{#-
  One tone-mark convention on oa / oe / uy: the tone sits on the first vowel when the syllable ends there
  (hoà -> hòa, xoè -> xòe, thuý -> thúy; a syllable ends at a space or a hyphen). Syllables that go on
  (hoàng, toán, huỳnh, khuỷu) are untouched: their spelling is the same in both conventions. In qu + y the u belongs to the consonant (quý stays quý).
  Expects lower-case NFC text with single spaces; plain replace() on a space-padded string keeps this portable.
-#}
{% macro vn_tone_convention(col) -%}
    {%- set oa = [('à', 'ò'), ('á', 'ó'), ('ả', 'ỏ'), ('ã', 'õ'), ('ạ', 'ọ')] -%}
    {%- set oe = [('è', 'ò'), ('é', 'ó'), ('ẻ', 'ỏ'), ('ẽ', 'õ'), ('ẹ', 'ọ')] -%}
    {%- set uy = [('ỳ', 'ù'), ('ý', 'ú'), ('ỷ', 'ủ'), ('ỹ', 'ũ'), ('ỵ', 'ụ')] -%}
    {%- set pairs = [] -%}
    {#- a syllable ends at a space or a hyphen (Hoà-Bình) -#}
    {%- for end in [' ', '-'] -%}
        {%- for toned_a, toned_o in oa -%}{%- do pairs.append(('o' ~ toned_a ~ end, toned_o ~ 'a' ~ end)) -%}{%- endfor -%}
        {%- for toned_e, toned_o in oe -%}{%- do pairs.append(('o' ~ toned_e ~ end, toned_o ~ 'e' ~ end)) -%}{%- endfor -%}
        {%- for toned_y, toned_u in uy -%}{%- do pairs.append(('u' ~ toned_y ~ end, toned_u ~ 'y' ~ end)) -%}{%- endfor -%}
        {#- undo the move after q: qúy -> quý -#}
        {%- for toned_y, toned_u in uy -%}{%- do pairs.append(('q' ~ toned_u ~ 'y' ~ end, 'qu' ~ toned_y ~ end)) -%}{%- endfor -%}
    {%- endfor -%}
    {%- set ns = namespace(expr="(' ' || " ~ col ~ " || ' ')") -%}
    {%- for old, new in pairs -%}
        {%- set ns.expr = "replace(" ~ ns.expr ~ ", '" ~ old ~ "', '" ~ new ~ "')" -%}
    {%- endfor -%}
    {#-
      The 80 replace() calls cost ~3 s per million names; most names hold none of the patterns. One regular
      expression match (~0.2 s per million) finds those that may: the first replacement that changes a
      string acts on the original, so it is enough to look for the patterns' left sides in the original.
    -#}
    case
        when {{ regexp_like(col, 'o[àáảãạèéẻẽẹ]([ -]|$)|u[ỳýỷỹỵ]([ -]|$)|q[ùúủũụ]y([ -]|$)') }}
            then trim({{ ns.expr }})
        else trim({{ col }})
    end
{%- endmacro %}


{#-
  A Vietnamese name for comparison: NFC, lower case, one tone-mark convention, single spaces, trimmed,
  NULL when empty. NFD and NFC input give the same result.
-#}
{% macro normalize_vn_name(col) -%}
    {{ return(adapter.dispatch('normalize_vn_name', 'doisoat')(col)) }}
{%- endmacro %}

{% macro default__normalize_vn_name(col) -%}
    {%- set folded = "lower(" ~ nfc_normalize(col) ~ ")" -%}
    {#- every kind of white space (incl. no-break and ideographic spaces) becomes one space -#}
    {#- the replace runs only where there is something to replace: two white-space characters in a row, or one
        other than a plain space (a match costs ~1/5 of a replace) -#}
    {%- set ws = '\\s\\x{00a0}\\x{2000}-\\x{200a}\\x{3000}' -%}
    {%- set odd_ws = '\\t\\n\\f\\r\\x{00a0}\\x{2000}-\\x{200a}\\x{3000}' -%}
    {%- set spaced = "trim(case when " ~ regexp_like(folded, '[' ~ ws ~ ']{2}|[' ~ odd_ws ~ ']') ~ " then "
        ~ regexp_replace_all(folded, '[' ~ ws ~ ']+', ' ') ~ " else " ~ folded ~ " end)" -%}
    nullif({{ vn_tone_convention(spaced) }}, '')
{%- endmacro %}


{#- remove every diacritic and map đ -> d; expects lower-case NFC text (name_norm) -#}
{% macro unaccent_vn(col) -%}
    {{ return(adapter.dispatch('unaccent_vn', 'doisoat')(col)) }}
{%- endmacro %}

{#- portable: translate() over the Vietnamese lower-case letters (67 toned/modified vowels and đ) -#}
{% macro default__unaccent_vn(col) -%}
    translate({{ col }},
        'àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ',
        'aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd')
{%- endmacro %}

{% macro duckdb__unaccent_vn(col) -%}
    replace(strip_accents({{ col }}), 'đ', 'd')
{%- endmacro %}


{#- the parts of a normalised name: first word, the words between, last word (a one-word name is a given name) -#}
{% macro name_family(col) -%}
    nullif(regexp_extract({{ col }}, '^([^ ]+) ', 1), '')
{%- endmacro %}

{% macro name_middle(col) -%}
    {{ return(adapter.dispatch('name_middle', 'doisoat')(col)) }}
{%- endmacro %}

{% macro default__name_middle(col) -%}
    nullif(regexp_extract({{ col }}, '^[^ ]+ (.+) [^ ]+$', 1), '')
{%- endmacro %}

{#- the same on a normalised name (trimmed, single spaces): the words but the first and last; the capturing
    regexp costs ~1.2 s per million names, the split ~0.3 s -#}
{% macro duckdb__name_middle(col) -%}
    nullif(array_to_string(string_split({{ col }}, ' ')[2:-2], ' '), '')
{%- endmacro %}

{% macro name_given(col) -%}
    nullif(regexp_extract({{ col }}, '([^ ]+)$', 1), '')
{%- endmacro %}


{#- M / F from Nam / Nữ (any case or normal form, with or without diacritics), 1 / 2, M / F; else NULL -#}
{% macro sex_code(col) -%}
    case lower(trim({{ nfc_normalize(col) }}))
        when 'nam' then 'M'
        when 'nữ' then 'F'
        when 'nu' then 'F'
        when '1' then 'M'
        when '2' then 'F'
        when 'm' then 'M'
        when 'f' then 'F'
    end
{%- endmacro %}
