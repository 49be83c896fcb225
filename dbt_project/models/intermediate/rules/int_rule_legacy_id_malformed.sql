-- LEGACY_ID_MALFORMED (sach): a master citizen's legacy_id9 (old CMND) is present but not 9 digits.
with

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

final as (
    select
        'population' as source,
        personal_id as source_record_id,
        'LEGACY_ID_MALFORMED' as rule_code,
        commune_code
    from citizens
    where nullif(trim(legacy_id9), '') is not null
        and not legacy_id9_valid
)

select * from final
