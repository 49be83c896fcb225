-- NAME_MISMATCH (dung): a linked record whose normalised name differs from the master's, and not merely by
-- missing accents (that is NAME_UNACCENTED). Needs a name on both sides.
with

records as (
    select * from {{ ref('int_sector_records_linked') }}
),

final as (
    select
        source,
        source_record_id,
        'NAME_MISMATCH' as rule_code,
        commune_code
    from records
    where is_linked
        and name_norm <> master_name_norm
        and not (not name_has_diacritics and name_unaccented = master_name_unaccented)
)

select * from final
