{#-
  Each sector record beside the master person it is linked to (NULL master columns when not linked): what
  the comparison rules and the marts read.
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
        records.*,
        links.personal_id,
        coalesce(links.match_method, 'none') as match_method,
        links.match_probability,
        links.personal_id is not null as is_linked,
        citizens.name_norm as master_name_norm,
        citizens.name_unaccented as master_name_unaccented,
        citizens.name_has_diacritics as master_name_has_diacritics,
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
