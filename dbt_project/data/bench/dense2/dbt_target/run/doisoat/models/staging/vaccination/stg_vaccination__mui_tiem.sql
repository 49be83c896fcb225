
  
  create view "warehouse"."staging"."stg_vaccination__mui_tiem__dbt_tmp" as (
    with

source as (
    select * from "warehouse"."raw"."vaccination__mui_tiem"
),

renamed as (
    select
        trim(ma_mui) as dose_id,
        trim(ma_doi_tuong) as source_record_id,
        upper(nullif(trim(ma_vac_xin), '')) as vaccine_code,
        try_cast(trim(mui_thu) as integer) as dose_number,
        ngay_tiem as dose_date_raw,
        cast((case when year(try_strptime(trim(ngay_tiem), ['%d/%m/%Y'])) >= 1000 then try_strptime(trim(ngay_tiem), ['%d/%m/%Y']) end) as date) as dose_date_parsed,
        nullif(trim(co_so_tiem), '') as facility,
        cast('2026-11-25' as date) as as_of
    from source
),

final as (
    select
        dose_id,
        source_record_id,
        vaccine_code,
        dose_number,
        case when dose_date_parsed <= cast('2026-11-25' as date) then dose_date_parsed end as dose_date,
        coalesce(trim(dose_date_raw) <> '', false) as dose_date_present,
        (coalesce(trim(dose_date_raw) <> '', false) and (dose_date_parsed is null or dose_date_parsed > cast('2026-11-25' as date))) as dose_date_invalid,
        facility,
        as_of
    from renamed
)

select * from final
  );
