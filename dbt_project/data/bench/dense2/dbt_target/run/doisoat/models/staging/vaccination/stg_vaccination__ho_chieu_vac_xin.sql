
  
  create view "warehouse"."staging"."stg_vaccination__ho_chieu_vac_xin__dbt_tmp" as (
    with

source as (
    select * from "warehouse"."raw"."vaccination__ho_chieu_vac_xin"
),

renamed as (
    select
        trim(ma_doi_tuong) as source_record_id,
        ngay_ky as signed_on_raw,
        cast((case when year(try_strptime(trim(ngay_ky), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(ngay_ky), ['%Y-%m-%d']) end) as date) as signed_on_parsed,
        cast('2026-11-25' as date) as as_of
    from source
),

final as (
    select
        source_record_id,
        case when signed_on_parsed <= cast('2026-11-25' as date) then signed_on_parsed end as signed_on,
        (coalesce(trim(signed_on_raw) <> '', false) and (signed_on_parsed is null or signed_on_parsed > cast('2026-11-25' as date))) as signed_on_invalid,
        as_of
    from renamed
)

select * from final
  );
