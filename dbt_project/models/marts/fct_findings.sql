{#-
  One row per (record, rule) that fails, for the four sector sources and the population master itself
  (source_record_id = personal ID, or household ID for the household rules). No names and no IDs other than
  the record's own key: the report joins to staging for masked names. Incremental by as_of.
-#}

with

findings as (
    select * from {{ ref('int_findings_unioned') }}
),

final as (
    select
        source,
        source_record_id,
        rule_code,
        criterion,
        commune_code,
        {{ as_of() }} as as_of
    from findings
)

select * from final
