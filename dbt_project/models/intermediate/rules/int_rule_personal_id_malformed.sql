-- PERSONAL_ID_MALFORMED (sach): a master citizen whose personal_id is not a 12-digit ID. Its digits are then
-- not decoded (no ID_CONFLICT) and no sector record links to it.
with

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

final as (
    select
        'population' as source,
        personal_id as source_record_id,
        'PERSONAL_ID_MALFORMED' as rule_code,
        commune_code
    from citizens
    where not personal_id_valid
)

select * from final
