{#-
  Every link of a sector record to a master person: the deterministic links, then the probabilistic ones for
  records no ID could link (a deterministic link always wins). One row per linked record; everything
  downstream uses these links. Nobody links to a master citizen whose personal_id is not a 12-digit ID.
-#}
{{ config(materialized='view') }}
-- a view: read once, by int_sector_records_linked, which writes the records with their links
with

deterministic as (
    select * from {{ ref('int_links_deterministic') }}
),

linkable_citizens as (
    select personal_id from {{ ref('int_citizens_aged') }}
    where personal_id_valid
),

probabilistic as (
    select probabilistic.*
    from {{ ref('int_links_probabilistic') }} as probabilistic
    inner join linkable_citizens
        on probabilistic.personal_id = linkable_citizens.personal_id
),

probabilistic_only as (
    select probabilistic.*
    from probabilistic
    left join deterministic
        on probabilistic.source = deterministic.source
        and probabilistic.source_record_id = deterministic.source_record_id
    where deterministic.source_record_id is null
),

final as (
    select source, source_record_id, personal_id, match_method, match_probability from deterministic
    union all
    select source, source_record_id, personal_id, match_method, match_probability from probabilistic_only
)

select * from final
