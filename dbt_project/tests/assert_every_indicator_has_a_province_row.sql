-- tonight, every indicator of the catalogue has exactly one province row
with

tonight as (
    select indicator_code
    from {{ ref('fct_indicators') }}
    where as_of = {{ as_of() }}
        and scope_level = 'province'
),

indicators as (
    select indicator_code from {{ ref('indicators') }}
)

select indicators.indicator_code, count(tonight.indicator_code) as n_province_rows
from indicators
left join tonight
    on indicators.indicator_code = tonight.indicator_code
group by indicators.indicator_code
having count(tonight.indicator_code) <> 1
