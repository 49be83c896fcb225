{#-
  Each master citizen with the criteria its own findings fail. Household findings (keyed by household ID)
  belong to no citizen.
-#}
with

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

findings as (
    select * from {{ ref('int_findings_unioned') }}
    where source = 'population'
        and rule_code not in ('HOUSEHOLD_NO_HEAD', 'HOUSEHOLD_MULTI_HEAD')
),

citizen_findings as (
    select
        source_record_id as personal_id,
        count(*) as n_findings,
        max(case when criterion = 'dung' then 1 else 0 end) = 1 as fails_dung,
        max(case when criterion = 'du' then 1 else 0 end) = 1 as fails_du,
        max(case when criterion = 'sach' then 1 else 0 end) = 1 as fails_sach,
        max(case when criterion = 'song' then 1 else 0 end) = 1 as fails_song
    from findings
    group by source_record_id
),

final as (
    select
        citizens.personal_id,
        citizens.commune_code,
        coalesce(citizen_findings.n_findings, 0) as n_findings,
        coalesce(citizen_findings.fails_dung, false) as fails_dung,
        coalesce(citizen_findings.fails_du, false) as fails_du,
        coalesce(citizen_findings.fails_sach, false) as fails_sach,
        coalesce(citizen_findings.fails_song, false) as fails_song
    from citizens
    left join citizen_findings
        on citizens.personal_id = citizen_findings.personal_id
)

select * from final
