{#-
  The figures stewards report: every indicator of reference.indicators, one province row (scope_code = the
  current 2-digit province code: var province_code, else the most frequent province of the master's
  communes) and one row per commune with a non-zero denominator (units by their own resolved current
  commune). rate is the exact percentage (double; NULL when the denominator is 0, which only a province row
  can have), meets_target = rate >= target. Incremental by as_of.
-#}

with

units as (
    select * from {{ ref('int_indicator_units') }}
),

indicators as (
    select * from {{ ref('indicators') }}
),

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

communes as (
    select * from {{ ref('admin_communes') }}
),

master_provinces as (
    select
        communes.province_code,
        count(*) as n_citizens
    from citizens
    inner join communes
        on citizens.commune_code = communes.commune_code
    group by communes.province_code
),

province as (
    {%- if province_code() != '' %}
    select cast('{{ province_code() }}' as varchar) as province_code
    {%- else %}
    select province_code
    from (
        select
            province_code,
            row_number() over (order by n_citizens desc, province_code asc) as rank_by_size
        from master_provinces
    ) as ranked
    where rank_by_size = 1
    {%- endif %}
),

-- one pass over the units (a view): per indicator and commune; the province row sums them (units of an
-- unknown commune included)
unit_counts as (
    select
        indicator_code,
        commune_code,
        count(case when in_denominator and in_numerator then 1 end) as numerator,
        count(case when in_denominator then 1 end) as denominator
    from units
    group by indicator_code, commune_code
),

province_counts as (
    select
        indicators.indicator_code,
        'province' as scope_level,
        province.province_code as scope_code,
        coalesce(cast(sum(unit_counts.numerator) as bigint), 0) as numerator,
        coalesce(cast(sum(unit_counts.denominator) as bigint), 0) as denominator
    from indicators
    cross join province
    left join unit_counts
        on indicators.indicator_code = unit_counts.indicator_code
    group by indicators.indicator_code, province.province_code
),

commune_counts as (
    select
        indicator_code,
        'commune' as scope_level,
        commune_code as scope_code,
        numerator,
        denominator
    from unit_counts
    where commune_code is not null
),

counts as (
    select * from province_counts
    union all
    select * from commune_counts
    where denominator > 0
),

final as (
    select
        {{ as_of() }} as as_of,
        counts.indicator_code,
        counts.scope_level,
        counts.scope_code,
        counts.numerator,
        counts.denominator,
        case
            when counts.denominator > 0
                then cast(100.0 as double) * counts.numerator / counts.denominator
        end as rate,
        indicators.target,
        -- compared without division, so that a rate exactly on target meets it
        case
            when counts.denominator > 0
                then cast(100.0 as double) * counts.numerator >= indicators.target * counts.denominator
        end as meets_target,
        indicators.source,
        indicators.criterion
    from counts
    inner join indicators
        on counts.indicator_code = indicators.indicator_code
)

select * from final
