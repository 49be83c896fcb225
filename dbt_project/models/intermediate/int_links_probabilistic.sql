{#-
  The seam for probabilistic links. The Splink linkage asset (assets/linkage.py) writes
  intermediate.linkage_probabilistic (source, source_record_id, personal_id, match_probability): every pair
  above the accept threshold. Until it has run, that relation does not exist and this model is empty (but
  typed). When the relation carries an as_of column, only tonight's rows are read. Pairs a steward accepted in
  the review queue arrive here too (match_probability 1.0). Only pairs naming a real master person are kept,
  and the most probable one per record.
-#}
{{ config(materialized='view') }}
-- a view: read once, through int_record_links
-- depends_on: {{ source('linkage', 'linkage_probabilistic') }}
with

linkage as (
    {{ select_from_optional_relation('intermediate', 'linkage_probabilistic', [
        ('source', 'varchar'),
        ('source_record_id', 'varchar'),
        ('personal_id', 'varchar'),
        ('match_probability', 'double'),
    ]) }}
),

citizens as (
    select personal_id from {{ ref('int_citizens_aged') }}
),

ranked as (
    select
        linkage.source,
        linkage.source_record_id,
        linkage.personal_id,
        linkage.match_probability,
        row_number() over (
            partition by linkage.source, linkage.source_record_id
            order by linkage.match_probability desc, linkage.personal_id asc
        ) as rank_in_record
    from linkage
    inner join citizens
        on linkage.personal_id = citizens.personal_id
    where linkage.source_record_id is not null
),

final as (
    select
        source,
        source_record_id,
        personal_id,
        'probabilistic' as match_method,
        match_probability
    from ranked
    where rank_in_record = 1
)

select * from final
