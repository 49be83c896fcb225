-- NAME_UNACCENTED (sach): a linked record whose name has no diacritic at all (đ counts as one) and equals
-- the master's name once the master's accents are removed too. When the master's name has no diacritics
-- either, the two normalised names are equal and there is no finding.
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

final as (
    select
        source,
        source_record_id,
        'NAME_UNACCENTED' as rule_code,
        commune_code
    from records
    where is_linked
        and name_norm <> master_name_norm
        and not name_has_diacritics
        and name_unaccented = master_name_unaccented
)

select * from final
