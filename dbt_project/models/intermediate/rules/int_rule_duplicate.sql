-- DUPLICATE (sach): two or more records of one source linked to the same master person, whatever the link
-- method; every record of the group gets the finding. Civil: birth entries (KHAI_SINH) only — one person
-- has one birth entry, but may marry more than once.
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

candidates as (
    select
        source,
        source_record_id,
        personal_id,
        commune_code
    from records
    where is_linked
        and (source <> 'civil' or entry_type = 'KHAI_SINH')
),

groups as (
    select
        source,
        personal_id
    from candidates
    group by source, personal_id
    having count(*) > 1
),

final as (
    select
        candidates.source,
        candidates.source_record_id,
        'DUPLICATE' as rule_code,
        candidates.commune_code
    from candidates
    inner join groups
        on candidates.source = groups.source
        and candidates.personal_id = groups.personal_id
)

select * from final
