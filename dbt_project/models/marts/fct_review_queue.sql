{#-
  Probabilistic candidate pairs between the review and accept thresholds, for a steward to decide: not linked.
  Written by the linkage asset (assets/linkage.py) as intermediate.linkage_review, with the evidence of each
  comparison in words; this mart adds the record's commune (to route it) and keeps the nights' history.
  A decision goes into decisions.review_decisions (source, source_record_id, personal_id, decision
  accept/reject, decided_by, decided_at) and is applied by the next night's linkage: accepted -> linked
  (match_method probabilistic, match_probability 1.0), rejected -> never proposed again.
  No names here: the record key and the candidate personal ID are what the steward looks up.
-#}
-- depends_on: {{ source('linkage', 'linkage_probabilistic') }}
with

review as (
    {{ select_from_optional_relation('intermediate', 'linkage_review', [
        ('source', 'varchar'),
        ('source_record_id', 'varchar'),
        ('personal_id', 'varchar'),
        ('match_probability', 'double'),
        ('match_weight', 'double'),
        ('candidate_rank', 'integer'),
        ('n_candidates', 'integer'),
        ('evidence_family_name', 'varchar'),
        ('evidence_middle_name', 'varchar'),
        ('evidence_given_name', 'varchar'),
        ('evidence_birth_date', 'varchar'),
        ('evidence_sex', 'varchar'),
        ('evidence_commune', 'varchar'),
        ('evidence_mother', 'varchar'),
        ('evidence_other_record', 'varchar'),
        ('evidence_commune_elsewhere', 'varchar'),
        ('as_of', 'date'),
    ]) }}
),

records as (
    select
        source,
        source_record_id,
        commune_code
    from {{ ref('int_sector_records_unioned') }}
),

this_night as (
    select *
    from review
    where as_of = {{ as_of() }}
),

final as (
    select
        this_night.source,
        this_night.source_record_id,
        this_night.personal_id as candidate_personal_id,
        this_night.match_probability,
        this_night.match_weight,
        this_night.candidate_rank,
        this_night.n_candidates,
        this_night.evidence_family_name,
        this_night.evidence_middle_name,
        this_night.evidence_given_name,
        this_night.evidence_birth_date,
        this_night.evidence_sex,
        this_night.evidence_commune,
        this_night.evidence_mother,
        this_night.evidence_other_record,
        this_night.evidence_commune_elsewhere,
        records.commune_code,
        {{ as_of() }} as as_of
    from this_night
    left join records
        on this_night.source = records.source
        and this_night.source_record_id = records.source_record_id
)

select * from final
