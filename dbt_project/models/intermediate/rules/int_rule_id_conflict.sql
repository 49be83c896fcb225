-- ID_CONFLICT (dung): a 12-digit ID (repaired ones included) whose first three digits are not one of the 63
-- pre-2025 ID province codes, or whose sex/century digit and birth-year digits contradict the record's own
-- (valid) birth year or sex. Sector records: the record's own ID against its own birth date and sex. The
-- population master: personal_id against its own birth date (the year, known at any precision) and sex.
-- The ID is decoded in staging (id_prefix_valid, id_birth_year, id_sex). A NULL on either side compares
-- nothing.
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

sector_conflicts as (
    select
        source,
        source_record_id,
        commune_code
    from records
    where id_kind in ('id12', 'repaired12')
        and (
            not id_prefix_valid
            or extract(year from birth_date) <> id_birth_year
            or sex <> id_sex
        )
),

population_conflicts as (
    select
        'population' as source,
        personal_id as source_record_id,
        commune_code
    from citizens
    where not id_prefix_valid
        or birth_year <> id_birth_year
        or sex <> id_sex
),

conflicts as (
    select * from sector_conflicts
    union all
    select * from population_conflicts
),

final as (
    select
        source,
        source_record_id,
        'ID_CONFLICT' as rule_code,
        commune_code
    from conflicts
)

select * from final
