-- NOT_LINKED (du): no master person could be linked, by ID or probabilistically.
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

final as (
    select
        source,
        source_record_id,
        'NOT_LINKED' as rule_code,
        commune_code
    from records
    where not is_linked
)

select * from final
