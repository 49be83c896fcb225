with

source as (
    select * from "warehouse"."raw"."social__payment"
),

renamed as (
    select
        trim(payment_id) as payment_id,
        trim(beneficiary_id) as beneficiary_id,
        nullif(trim(period), '') as period,
        try_cast(trim(amount) as bigint) as amount,
        upper(nullif(trim(method), '')) as method,
        paid_at as paid_on_raw,
        cast((case when year(try_strptime(trim(paid_at), ['%Y-%m-%d', '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d'])) >= 1000 then try_strptime(trim(paid_at), ['%Y-%m-%d', '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d']) end) as date) as paid_on_parsed,
        cast('2026-11-25' as date) as as_of
    from source
),

final as (
    select
        payment_id,
        beneficiary_id,
        period,
        amount,
        method,
        case when paid_on_parsed <= cast('2026-11-25' as date) then paid_on_parsed end as paid_on,
        (coalesce(trim(paid_on_raw) <> '', false) and (paid_on_parsed is null or paid_on_parsed > cast('2026-11-25' as date))) as paid_on_invalid,
        as_of
    from renamed
)

select * from final