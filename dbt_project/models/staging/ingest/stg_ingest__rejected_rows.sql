{#-
  Tonight's source rows that ingestion could not load (empty or repeated key, or a key not of its type): they are
  in no raw table, yet every one of them is a record that must be accounted for (OUTPUTS.md: one
  fct_reconciliation row per sector record). `record_kind` says what the row is: a sector record (the four
  person-like tables), a citizen or a household of the master, or another row (doses, payments, passports).
-#}
with

source as (
    select * from {{ source('ingest', 'quarantine') }}
),

tonight as (
    select * from source
    where disposition = 'rejected'
        and cast(_as_of as date) = {{ as_of() }}
),

final as (
    select
        source,
        table_name,
        source_record_id,
        column_name,
        reason,
        case
            when source || '.' || lower(table_name) in (
                    'vaccination.doi_tuong', 'social.beneficiary', 'civil.ho_tich', 'children.tre_em'
                ) then 'record'
            when source = 'population' and lower(table_name) = 'citizen' then 'citizen'
            when source = 'population' and lower(table_name) = 'household' then 'household'
            else 'other'
        end as record_kind,
        {{ as_of() }} as as_of
    from tonight
)

select * from final
