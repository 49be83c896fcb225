{#-
  The master's old 9-digit CMND numbers that can link a sector record: only well-formed ones
  (legacy_id9_valid), with the number of master persons holding each. A number held by two or more persons
  is ambiguous and links nobody (n_persons > 1); it is still "known" for ID_UNKNOWN. A citizen whose own
  personal_id is not a 12-digit ID (PERSONAL_ID_MALFORMED) is nobody to link to.
-#}
with

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

valid_legacy_ids as (
    select
        legacy_id9,
        personal_id
    from citizens
    where legacy_id9_valid
        and personal_id_valid
),

counted as (
    select
        legacy_id9,
        count(distinct personal_id) as n_persons,
        min(personal_id) as personal_id
    from valid_legacy_ids
    group by legacy_id9
),

final as (
    select
        legacy_id9,
        n_persons,
        case when n_persons = 1 then personal_id end as personal_id,
        n_persons = 1 as is_unique
    from counted
)

select * from final
