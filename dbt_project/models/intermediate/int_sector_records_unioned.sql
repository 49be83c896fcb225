{#-
  The four person-like sector record sets as one normalised record set: the staging interface's common
  columns, then the few source-specific columns the rules read (NULL where a source has no such column).
  Every later step reads sector records from here, never from the four staging views.
-#}
{%- set common_columns = [
    'source', 'source_record_id',
    'name_norm', 'name_unaccented', 'name_has_diacritics',
    'birth_date', 'birth_date_present', 'birth_date_invalid', 'sex',
    'id_raw_present', 'id_clean', 'id_kind', 'id12', 'id9', 'id_prefix_valid', 'id_birth_year', 'id_sex',
    'commune_code_current_raw', 'commune_code_old_raw', 'commune_code', 'commune_status',
    'updated_at', 'as_of',
] -%}

with

vaccination as (
    select * from {{ ref('stg_vaccination__doi_tuong') }}
),

social as (
    select * from {{ ref('stg_social__beneficiary') }}
),

civil as (
    select * from {{ ref('stg_civil__ho_tich') }}
),

children as (
    select * from {{ ref('stg_children__tre_em') }}
),

unioned as (

    select
        {%- for column in common_columns %}
        {{ column }},
        {%- endfor %}
        cast(null as varchar) as beneficiary_status,
        cast(null as varchar) as pay_method,
        cast(null as varchar) as bank_account,
        cast(null as varchar) as entry_type,
        cast(null as varchar) as digitisation_status,
        cast(null as date) as registered_on,
        cast(null as date) as death_date,
        cast(null as date) as reviewed_on,
        cast(null as boolean) as reviewed_on_present,
        {{ updated_at_invalid(ref('stg_vaccination__doi_tuong')) }} as other_date_invalid
    from vaccination

    union all

    select
        {%- for column in common_columns %}
        {{ column }},
        {%- endfor %}
        status as beneficiary_status,
        pay_method,
        bank_account,
        cast(null as varchar) as entry_type,
        cast(null as varchar) as digitisation_status,
        cast(null as date) as registered_on,
        cast(null as date) as death_date,
        cast(null as date) as reviewed_on,
        cast(null as boolean) as reviewed_on_present,
        {{ updated_at_invalid(ref('stg_social__beneficiary')) }} as other_date_invalid
    from social

    union all

    select
        {%- for column in common_columns %}
        {{ column }},
        {%- endfor %}
        cast(null as varchar) as beneficiary_status,
        cast(null as varchar) as pay_method,
        cast(null as varchar) as bank_account,
        entry_type,
        digitisation_status,
        registered_on,
        death_date,
        cast(null as date) as reviewed_on,
        cast(null as boolean) as reviewed_on_present,
        (
            {{ updated_at_invalid(ref('stg_civil__ho_tich')) }}
            or registered_on_invalid
            or death_date_invalid
        ) as other_date_invalid
    from civil

    union all

    select
        {%- for column in common_columns %}
        {{ column }},
        {%- endfor %}
        cast(null as varchar) as beneficiary_status,
        cast(null as varchar) as pay_method,
        cast(null as varchar) as bank_account,
        cast(null as varchar) as entry_type,
        cast(null as varchar) as digitisation_status,
        cast(null as date) as registered_on,
        cast(null as date) as death_date,
        reviewed_on,
        (reviewed_on is not null or reviewed_on_invalid) as reviewed_on_present,
        (
            {{ updated_at_invalid(ref('stg_children__tre_em')) }}
            or reviewed_on_invalid
        ) as other_date_invalid
    from children

),

final as (
    select * from unioned
)

select * from final
