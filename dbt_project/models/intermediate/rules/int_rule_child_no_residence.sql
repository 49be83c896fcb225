-- CHILD_NO_RESIDENCE (du): an ALIVE citizen under 16 (from a full birth date) with no commune_code.
with

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

final as (
    select
        'population' as source,
        personal_id as source_record_id,
        'CHILD_NO_RESIDENCE' as rule_code,
        commune_code
    from citizens
    where status = 'ALIVE'
        and is_under_16
        and commune_code is null
)

select * from final
