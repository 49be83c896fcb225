-- CHILD_NOT_IN_REGISTRY (du): an ALIVE citizen under 16 (from a full birth date) to whom no child record is
-- linked, by any method.
with

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

linked_children as (
    select distinct personal_id
    from records
    where source = 'children'
        and is_linked
),

final as (
    select
        'population' as source,
        citizens.personal_id as source_record_id,
        'CHILD_NOT_IN_REGISTRY' as rule_code,
        citizens.commune_code
    from citizens
    left join linked_children
        on citizens.personal_id = linked_children.personal_id
    where citizens.status = 'ALIVE'
        and citizens.is_under_16
        and linked_children.personal_id is null
)

select * from final
