{#-
  The counting units of every indicator: one row per (indicator, record or citizen) with whether the unit is
  in the denominator and in the numerator, and the unit's own resolved current commune (citizens: their
  commune_code; NULL when unknown — such units count at province scope only). The named indicators are
  spelt out here; the `<source>_<criterion>` ones are driven by reference.indicators (source, criterion).
-#}
with

records as (
    select * from {{ ref('int_sector_records_reconciled') }}
),

citizens as (
    select * from {{ ref('int_citizens_checked') }}
),

passports as (
    select distinct source_record_id as record_id from {{ ref('stg_vaccination__ho_chieu_vac_xin') }}
),

indicators as (
    select * from {{ ref('indicators') }}
),

children as (
    select * from records where source = 'children'
),

vaccination as (
    select
        records.*,
        passports.record_id is not null as has_signed_passport
    from records
    left join passports
        on records.source_record_id = passports.record_id
    where records.source = 'vaccination'
),

named_units as (
    -- one unit list per named indicator, as a table: the first select names the columns (noqa: AL03)
    -- noqa: disable=AL03

    select
        'children_reviewed' as indicator_code, source_record_id as unit_id, commune_code,
        true as in_denominator, is_reconciled as in_numerator
    from children

    union all

    select
        'children_with_id_code', source_record_id, commune_code,
        true, own_id_is_linked_id
    from children
    where is_reconciled

    union all

    select
        'vaccination_clean', source_record_id, commune_code,
        true, is_reconciled
    from vaccination

    union all

    select
        'vaccine_passports_signed', source_record_id, commune_code,
        true, has_signed_passport
    from vaccination

    union all

    select
        'civil_digitised', source_record_id, commune_code,
        true, coalesce(digitisation_status = 'DA_SO_HOA', false)
    from records
    where source = 'civil'

    union all

    select
        'social_account_payment', source_record_id, commune_code,
        true, coalesce(pay_method = 'ACCOUNT' and nullif(trim(bank_account), '') is not null, false)
    from records
    where source = 'social'
        and beneficiary_status = 'ACTIVE'

    union all

    select
        'social_reconciled', source_record_id, commune_code,
        true, is_reconciled
    from records
    where source = 'social'

    union all

    select
        'population_clean', personal_id, commune_code,
        true, n_findings = 0
    from citizens

    -- noqa: enable=AL03
),

criterion_units as (
    {%- for criterion in ['dung', 'du', 'sach', 'song'] %}
    select
        source,
        source_record_id as unit_id,
        commune_code,
        '{{ criterion }}' as criterion,
        not fails_{{ criterion }} as passes
    from records
    union all
    select
        'population' as source,
        personal_id as unit_id,
        commune_code,
        '{{ criterion }}' as criterion,
        not fails_{{ criterion }} as passes
    from citizens
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

criterion_indicator_units as (
    select
        indicators.indicator_code,
        criterion_units.unit_id,
        criterion_units.commune_code,
        true as in_denominator,
        criterion_units.passes as in_numerator
    from indicators
    inner join criterion_units
        on indicators.source = criterion_units.source
        and indicators.criterion = criterion_units.criterion
    where nullif(trim(indicators.criterion), '') is not null
),

final as (
    select * from named_units
    union all
    select * from criterion_indicator_units
)

select * from final
