-- every indicator row: 0 <= numerator <= denominator, and commune rows never have a zero denominator
select *
from {{ ref('fct_indicators') }}
where numerator < 0
    or numerator > denominator
    or (scope_level = 'commune' and denominator = 0)
