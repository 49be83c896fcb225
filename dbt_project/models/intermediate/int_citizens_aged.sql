{#-
  Master citizens with their age in whole years at the as-of date, from full (day-precision) birth dates
  only. Under 16 follows the Law on Children: born after the date 16 years before the as-of date (a child
  born exactly 16 years before is 16). Partial or missing birth dates, and birth dates after the as-of date,
  give no age.
-#}
with

citizens as (
    select * from {{ ref('stg_population__citizen') }}
),

aged as (
    select
        personal_id,
        status,
        commune_code,
        birth_date,
        birth_date_precision = 'day' and birth_date <= {{ as_of() }} as has_age,
        {{ years_before(as_of(), 16) }} as born_after_for_under_16
    from citizens
),

final as (
    select
        personal_id,
        status,
        commune_code,
        has_age,
        coalesce(has_age and birth_date > born_after_for_under_16, false) as is_under_16
    from aged
)

select * from final
