-- DATE_INVALID (sach): a date of the record cannot be parsed or lies after the as-of date (timestamps by
-- their date: a change on the night's own day is fine). The dates read are the record's own text dates:
-- the birth date and the last-update timestamp of every record (an unparseable timestamp only once staging
-- flags it as updated_at_invalid); civil also ngay_dang_ky and ngay_chet; children ngay_ra_soat;
-- vaccination every dose (ngay_tiem) of the subject, which must also not be before the record's valid birth
-- date (a dose on the birth day is fine). Not read: the vaccine-passport signing date and social payment
-- dates (rows of other tables, with no rule of their own), and the master's dates (no population rule).
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

doses as (
    select * from {{ ref('stg_vaccination__mui_tiem') }}
),

vaccination_subjects as (
    select
        source_record_id,
        birth_date
    from records
    where source = 'vaccination'
),

bad_doses as (
    select distinct vaccination_subjects.source_record_id
    from vaccination_subjects
    inner join doses
        on vaccination_subjects.source_record_id = doses.source_record_id
    where doses.dose_date_invalid
        or doses.dose_date < vaccination_subjects.birth_date
),

flagged as (
    select
        records.source,
        records.source_record_id,
        records.commune_code
    from records
    left join bad_doses
        on records.source = 'vaccination'
        and records.source_record_id = bad_doses.source_record_id
    where records.birth_date_invalid
        or coalesce(records.other_date_invalid, false)
        or bad_doses.source_record_id is not null
),

final as (
    select
        source,
        source_record_id,
        'DATE_INVALID' as rule_code,
        commune_code
    from flagged
)

select * from final
