{#-
  Incremental staging (issue 9): normalise each source-row version once.

  A source row's version is content-addressed by `_hash` (assets/history.py: the hash of all its raw values,
  exposed by the raw views). The costly, as_of-free part of a person-like staging model (names, IDs, date
  parsing, codes) is a function of the raw values only, so it is kept per `_hash` in an incremental model
  `<model>_versions`, which adds only the versions it does not hold. The staging model joins tonight's state to
  it and adds the night's part (as_of, seeds).

  `version_sql` is that as_of-free select, rendered over a CTE named `versions_source` (the same text in the
  versions model and in the staging model). Its md5 (`norm_version`) is kept on every row: when the
  normalisation code changes (this macro's or any macro it expands), the rows of other code versions are
  deleted before the new ones are added, and the staging model reads only rows of its own code version, so a
  code change never serves a stale normalisation.
-#}

{% macro norm_version(version_sql) -%}
    {{- return(local_md5(version_sql | trim)) -}}
{%- endmacro %}


{#-
  The body of a `<model>_versions` model: the versions of `source_relation` not yet held, normalised by
  `version_sql`. Before the insert, rows of another code version are deleted, and all rows when the table was
  read in full tonight (a first night or `doisoat run --full-refresh`: meta.extractions mode 'full'), so that a
  full refresh rebuilds them; `dbt --full-refresh` rebuilds the table too.
-#}
{% macro versions_model(source_relation, version_sql, source_name, table_name) -%}
    {%- set version = norm_version(version_sql) -%}
    {#- only a run or a build changes the kept versions: `dbt compile`, `dbt show` and sqlfluff's templater
        render this macro too, and must not delete anything -#}
    {%- if execute and is_incremental() and flags.WHICH in ('run', 'build') -%}
        {%- set extractions = adapter.get_relation(database=this.database, schema='meta', identifier='extractions') -%}
        {%- set read_in_full = false -%}
        {%- if extractions is not none -%}
            {%- set found = run_query(
                "select count(*) from " ~ extractions ~ " where as_of = " ~ as_of() ~ " and source = '"
                ~ source_name ~ "' and lower(table_name) = '" ~ table_name | lower ~ "' and mode = 'full'"
            ) -%}
            {%- set read_in_full = found.columns[0].values()[0] > 0 -%}
        {%- endif -%}
        {%- do run_query(
            "delete from " ~ this ~ (" where _norm_version <> '" ~ version ~ "'" if not read_in_full else "")
        ) -%}
    {%- endif %}
with

versions_source as (
    select * from {{ source_relation }} as src
    {%- if is_incremental() %}
    where not exists (select 1 from {{ this }} as kept where kept._hash = src._hash)
    {%- endif %}
    {#- two rows of one state never share a hash: it covers the row's key (the staging models' unique tests
        would show it) -#}
),

normalised as (
    {{ version_sql }}
)

select '{{ version }}' as _norm_version, * from normalised
{%- endmacro %}


{#-
  CTEs of a staging model (after a CTE `source`, tonight's state with `_hash`): `versions`, one row per state
  row, the kept normalisation of its version (`versions_ref`, this code version only; the versions model ran
  first, and the staging model's test `rows_as_source` fails the night if a state row found none). In a dbt
  unit test (hand-made rows, no versions kept) the same normalisation runs here over the given rows.
-#}
{% macro kept_versions_ctes(versions_ref, version_sql) -%}
{%- if model.resource_type == 'unit_test' -%}
versions_source as (
    select * from source
),

versions as (
    {{ version_sql }}
)
{%- else -%}
versions as (
    select * exclude (_norm_version) from {{ versions_ref }}
    where _norm_version = '{{ norm_version(version_sql) }}'
        and _hash in (select _hash from source)
)
{%- endif -%}
{%- endmacro %}


{#-
  The model has as many rows as `source_relation` (tonight's state): no state row lost its kept version.
  Returns one row when the counts differ.
-#}
{% test rows_as_source(model, source_relation) %}
    select model_rows, source_rows
    from
        (select count(*) as model_rows from {{ model }}) as m,
        (select count(*) as source_rows from {{ source_relation }}) as s
    where model_rows <> source_rows
{% endtest %}
