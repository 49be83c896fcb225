-- SEX_MISMATCH (dung): a linked record's sex differs from the master's (both known).
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

final as (
    select
        source,
        source_record_id,
        'SEX_MISMATCH' as rule_code,
        commune_code
    from records
    where is_linked
        and sex <> master_sex
)

select * from final
