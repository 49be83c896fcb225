{#-
  The counting units of every indicator: one row per (indicator, record or citizen) with whether the unit is
  in the denominator and in the numerator, and the unit's own resolved current commune (citizens: their
  commune_code; NULL when unknown — such units count at province scope only). The named indicators are
  spelt out here; the `<source>_<criterion>` ones are driven by reference.indicators (source, criterion).
  A view (~25 M rows at province, read once by fct_indicators, which aggregates it as it streams): writing it
  cost more than all the rest of the indicators. `unit_list` names the list a unit comes from: every list
  holds each record or citizen once (their keys are unique upstream), so an indicator whose units come from
  one list has each unit once — the invariant the model's test checks in one streaming pass.
-#}
{%- set named_indicators = [
    ('children_reviewed', 'source_record_id', 'is_reconciled', 'children', 'true'),
    ('children_with_id_code', 'source_record_id', 'own_id_is_linked_id', 'children', 'is_reconciled'),
    ('vaccination_clean', 'source_record_id', 'is_reconciled', 'vaccination', 'true'),
    ('vaccine_passports_signed', 'source_record_id', 'has_signed_passport', 'vaccination', 'true'),
    ('civil_digitised', 'source_record_id', "coalesce(digitisation_status = 'DA_SO_HOA', false)", 'civil', 'true'),
    (
        'social_account_payment', 'source_record_id',
        "coalesce(pay_method = 'ACCOUNT' and nullif(trim(bank_account), '') is not null, false)",
        'social', "beneficiary_status = 'ACTIVE'"
    ),
    ('social_reconciled', 'source_record_id', 'is_reconciled', 'social', 'true'),
    ('population_clean', 'personal_id', 'n_findings = 0', 'citizens', 'true'),
] -%}
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

civil as (
    select * from records where source = 'civil'
),

social as (
    select * from records where source = 'social'
),

named_units as (
    -- one unit list per named indicator (its `unit_list` is its place in the list above)
    {%- for code, unit, numerator, relation, condition in named_indicators %}
    select
        '{{ code }}' as indicator_code,
        {{ unit }} as unit_id,
        commune_code,
        true as in_denominator,
        {{ numerator }} as in_numerator,
        'named {{ loop.index }}' as unit_list
    from {{ relation }}
    where {{ condition }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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
        criterion_units.passes as in_numerator,
        'criterion ' || indicators.source || ' ' || indicators.criterion as unit_list
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
