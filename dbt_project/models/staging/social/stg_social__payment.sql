with

source as (
    select * from {{ source('social', 'payment') }}
),

renamed as (
    select
        trim(payment_id) as payment_id,
        trim(beneficiary_id) as beneficiary_id,
        {{ trim_to_null('period') }} as period,
        try_cast(trim(amount) as bigint) as amount,
        upper({{ trim_to_null('method') }}) as method,
        paid_at as paid_on_raw,
        {{ parse_date('paid_at', [fmt_ymd()] + fmt_timestamps()) }} as paid_on_parsed,
        {{ as_of() }} as as_of
    from source
),

final as (
    select
        payment_id,
        beneficiary_id,
        period,
        amount,
        method,
        {{ valid_date('paid_on_parsed') }} as paid_on,
        {{ date_invalid('paid_on_raw', 'paid_on_parsed') }} as paid_on_invalid,
        as_of
    from renamed
)

select * from final
