{#-
  Every finding of every rule, one row per (source, record, rule), with the rule's criterion from the rule
  catalogue (reference.rules). Each rule lives in its own model under intermediate/rules/.
-#}
{%- set rule_models = [
    'int_rule_id_missing',
    'int_rule_id_malformed',
    'int_rule_id_unknown',
    'int_rule_id_conflict',
    'int_rule_legacy_id_only',
    'int_rule_name_mismatch',
    'int_rule_name_unaccented',
    'int_rule_birth_date_mismatch',
    'int_rule_sex_mismatch',
    'int_rule_not_linked',
    'int_rule_duplicate',
    'int_rule_commune_unknown',
    'int_rule_commune_outdated',
    'int_rule_residence_mismatch',
    'int_rule_deceased_active',
    'int_rule_paid_after_death',
    'int_rule_field_missing',
    'int_rule_date_invalid',
    'int_rule_not_digitised',
    'int_rule_stale',
    'int_rule_household_heads',
    'int_rule_legacy_id_malformed',
    'int_rule_child_no_residence',
    'int_rule_death_not_recorded',
    'int_rule_child_not_in_registry',
    'int_rule_row_rejected',
    'int_rule_personal_id_malformed',
] -%}

with

rules as (
    select * from {{ ref('rules') }}
),

findings as (
    {%- for rule_model in rule_models %}
    select source, source_record_id, rule_code, commune_code from {{ ref(rule_model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        findings.source,
        findings.source_record_id,
        findings.rule_code,
        rules.criterion,
        findings.commune_code
    from findings
    left join rules
        on findings.rule_code = rules.rule_code
)

select * from final
