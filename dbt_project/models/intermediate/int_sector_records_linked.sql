{#-
  Each sector record beside the master person it is linked to (NULL master columns when not linked): what
  the comparison rules and the marts read. Only the columns they read: a table of 3.2 M rows at province,
  whose every column costs its write (46 columns: 14.2 CPU s; these 28: 10.7; bench/results/speed_recon.md).
  The rules on the record's own columns read int_sector_records_unioned.
-#}
with

records as (
    select * from {{ ref('int_sector_records_unioned') }}
),

links as (
    select * from {{ ref('int_record_links') }}
),

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

joined as (
    select
        records.source,
        records.source_record_id,
        records.commune_code,
        records.name_norm,
        records.name_unaccented,
        records.name_has_diacritics,
        records.birth_date,
        records.sex,
        records.id_kind,
        records.id_clean,
        records.id9,
        records.beneficiary_status,
        records.pay_method,
        records.bank_account,
        records.entry_type,
        records.digitisation_status,
        links.personal_id,
        coalesce(links.match_method, 'none') as match_method,
        links.match_probability,
        links.personal_id is not null as is_linked,
        citizens.name_norm as master_name_norm,
        citizens.name_unaccented as master_name_unaccented,
        citizens.birth_date as master_birth_date,
        citizens.birth_date_precision as master_birth_date_precision,
        citizens.sex as master_sex,
        citizens.commune_code as master_commune_code,
        citizens.status as master_status,
        citizens.death_date as master_death_date
    from records
    left join links
        on records.source = links.source
        and records.source_record_id = links.source_record_id
    left join citizens
        on links.personal_id = citizens.personal_id
),

final as (
    select * from joined
)

select * from final
