-- tonight, every indicator row: 0 <= numerator <= denominator, and commune rows never have a zero denominator
-- (earlier nights were tested on their own night: the mart keeps every night)
select *
from {{ ref('fct_indicators') }}
where as_of = {{ as_of() }}
    and (
        numerator < 0
        or numerator > denominator
        or (scope_level = 'commune' and denominator = 0)
    )
