-- HOUSEHOLD_NO_HEAD and HOUSEHOLD_MULTI_HEAD (sach): households of the master with no member, or more than
-- one member, whose relation_to_head is HEAD. Members are all citizens carrying the household_id, whatever
-- their status. A household row with no member at all has no head. Keyed by household_id; the commune is
-- the household's (else its members' most common one).
with

households as (
    select * from {{ ref('stg_population__household') }}
),

citizens as (
    select * from {{ ref('int_citizens_aged') }}
),

members as (
    select
        household_id,
        count(*) as n_members,
        sum(case when relation_to_head = 'HEAD' then 1 else 0 end) as n_heads
    from citizens
    where household_id is not null
    group by household_id
),

member_communes as (
    select
        household_id,
        commune_code,
        row_number() over (partition by household_id order by count(*) desc, commune_code) as rank_in_household
    from citizens
    where household_id is not null
        and commune_code is not null
    group by household_id, commune_code
),

all_households as (
    select household_id from households
    union
    select household_id from members
),

counted as (
    select
        all_households.household_id,
        coalesce(households.commune_code, member_communes.commune_code) as commune_code,
        coalesce(members.n_heads, 0) as n_heads
    from all_households
    left join households
        on all_households.household_id = households.household_id
    left join members
        on all_households.household_id = members.household_id
    left join member_communes
        on all_households.household_id = member_communes.household_id
        and member_communes.rank_in_household = 1
),

final as (
    select
        'population' as source,
        household_id as source_record_id,
        case when n_heads = 0 then 'HOUSEHOLD_NO_HEAD' else 'HOUSEHOLD_MULTI_HEAD' end as rule_code,
        commune_code
    from counted
    where n_heads <> 1
)

select * from final
