{#-
  The master's citizens (every staging column; a view, as the staging model is a table normalised once) with
  their age class at the as-of date: from full (day-precision) birth dates only, not after the as-of date.
  Under 16 follows the Law on Children: born after the date 16 years before the as-of date (a child born
  exactly 16 years before is 16). Partial or missing birth dates give no
  age (has_age false, is_under_16 false).
-#}
with

citizens as (
    select * from {{ ref('stg_population__citizen') }}
),

aged as (
    select
        *,
        coalesce(birth_date_precision = 'day' and birth_date <= {{ as_of() }}, false) as has_age,
        {{ years_before(as_of(), 16) }} as under_16_if_born_after
    from citizens
),

final as (
    select
        *,
        coalesce(has_age and birth_date > under_16_if_born_after, false) as is_under_16
    from aged
)

select * from final
