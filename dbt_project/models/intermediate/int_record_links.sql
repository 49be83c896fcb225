{#-
  Every link of a sector record to a master person: the deterministic links, then the probabilistic ones for
  records no ID could link (a deterministic link always wins). One row per linked record; everything
  downstream uses these links.
-#}
with

deterministic as (
    select * from {{ ref('int_links_deterministic') }}
),

probabilistic as (
    select * from {{ ref('int_links_probabilistic') }}
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
