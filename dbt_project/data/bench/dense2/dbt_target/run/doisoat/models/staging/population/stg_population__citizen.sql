
  
  create view "warehouse"."staging"."stg_population__citizen__dbt_tmp" as (
    with

source as (
    select * from "warehouse"."raw"."population__citizen"
),

renamed as (
    select
        trim(personal_id) as personal_id,
        full_name,
        nullif(trim(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace((' ' || trim(regexp_replace(lower(nfc_normalize(full_name)), '[\s\x{00a0}\x{2000}-\x{200a}\x{3000}]+', ' ', 'g')) || ' '), 'oà ', 'òa '), 'oá ', 'óa '), 'oả ', 'ỏa '), 'oã ', 'õa '), 'oạ ', 'ọa '), 'oè ', 'òe '), 'oé ', 'óe '), 'oẻ ', 'ỏe '), 'oẽ ', 'õe '), 'oẹ ', 'ọe '), 'uỳ ', 'ùy '), 'uý ', 'úy '), 'uỷ ', 'ủy '), 'uỹ ', 'ũy '), 'uỵ ', 'ụy '), 'qùy ', 'quỳ '), 'qúy ', 'quý '), 'qủy ', 'quỷ '), 'qũy ', 'quỹ '), 'qụy ', 'quỵ '), 'oà-', 'òa-'), 'oá-', 'óa-'), 'oả-', 'ỏa-'), 'oã-', 'õa-'), 'oạ-', 'ọa-'), 'oè-', 'òe-'), 'oé-', 'óe-'), 'oẻ-', 'ỏe-'), 'oẽ-', 'õe-'), 'oẹ-', 'ọe-'), 'uỳ-', 'ùy-'), 'uý-', 'úy-'), 'uỷ-', 'ủy-'), 'uỹ-', 'ũy-'), 'uỵ-', 'ụy-'), 'qùy-', 'quỳ-'), 'qúy-', 'quý-'), 'qủy-', 'quỷ-'), 'qũy-', 'quỹ-'), 'qụy-', 'quỵ-')), '') as name_norm,
        birth_date as birth_date_raw,
        case
        when regexp_matches(trim(birth_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
            then cast((case when year(try_strptime(trim(birth_date), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(birth_date), ['%Y-%m-%d']) end) as date)
        when regexp_matches(trim(birth_date), '^[0-9]{4}-[0-9]{2}$')
            then cast((case when year(try_strptime(trim(trim(birth_date) || '-01'), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(trim(birth_date) || '-01'), ['%Y-%m-%d']) end) as date)
        when regexp_matches(trim(birth_date), '^[0-9]{4}$')
            then cast((case when year(try_strptime(trim(trim(birth_date) || '-01-01'), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(trim(birth_date) || '-01-01'), ['%Y-%m-%d']) end) as date)
    end as birth_date_parsed,
        case
        when regexp_matches(trim(birth_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
            and cast((case when year(try_strptime(trim(birth_date), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(birth_date), ['%Y-%m-%d']) end) as date) is not null then 'day'
        when regexp_matches(trim(birth_date), '^[0-9]{4}-[0-9]{2}$')
            and cast((case when year(try_strptime(trim(trim(birth_date) || '-01'), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(trim(birth_date) || '-01'), ['%Y-%m-%d']) end) as date) is not null then 'month'
        when regexp_matches(trim(birth_date), '^[0-9]{4}$')
            and cast((case when year(try_strptime(trim(trim(birth_date) || '-01-01'), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(trim(birth_date) || '-01-01'), ['%Y-%m-%d']) end) as date) is not null then 'year'
    end as birth_date_precision_parsed,
        case lower(trim(nfc_normalize(sex)))
        when 'nam' then 'M'
        when 'nữ' then 'F'
        when 'nu' then 'F'
        when '1' then 'M'
        when '2' then 'F'
        when 'm' then 'M'
        when 'f' then 'F'
    end as sex,
        nullif(trim(ethnicity), '') as ethnicity,
        nullif(trim(commune_code), '') as commune_code,
        nullif(trim(household_id), '') as household_id,
        upper(nullif(trim(relation_to_head), '')) as relation_to_head,
        nullif(trim(legacy_id9), '') as legacy_id9,
        nullif(trim(father_id), '') as father_id,
        nullif(trim(mother_id), '') as mother_id,
        upper(nullif(trim(status), '')) as status,
        death_date as death_date_raw,
        cast((case when year(try_strptime(trim(death_date), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(death_date), ['%Y-%m-%d']) end) as date) as death_date_parsed,
        (case when year(try_strptime(trim(updated_at), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d'])) >= 1000 then try_strptime(trim(updated_at), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d']) end) as updated_at,
        cast('2026-11-25' as date) as as_of
    from source
),

normalised as (
    select
        *,
        replace(strip_accents(name_norm), 'đ', 'd') as name_unaccented,
        name_norm <> replace(strip_accents(name_norm), 'đ', 'd') as name_has_diacritics,
        nullif(regexp_extract(name_norm, '^([^ ]+) ', 1), '') as family_name,
        nullif(regexp_extract(name_norm, '^[^ ]+ (.+) [^ ]+$', 1), '') as middle_name,
        nullif(regexp_extract(name_norm, '([^ ]+)$', 1), '') as given_name,
        -- a period starting after the as-of date is invalid, like a sector date
        case when birth_date_parsed <= cast('2026-11-25' as date) then birth_date_parsed end as birth_date,
        case when birth_date_parsed <= cast('2026-11-25' as date) then birth_date_precision_parsed end as birth_date_precision,
        coalesce(trim(birth_date_raw) <> '', false) as birth_date_present,
        (coalesce(trim(birth_date_raw) <> '', false) and (birth_date_parsed is null or birth_date_parsed > cast('2026-11-25' as date))) as birth_date_invalid,
        -- NULL when there is no legacy ID; false when present but not 9 digits (LEGACY_ID_MALFORMED)
        case when legacy_id9 is not null then regexp_matches(legacy_id9, '^[0-9]{9}$') end as legacy_id9_valid,
        (case substr(personal_id, 4, 1)
        when '0' then 1900 when '1' then 1900
        when '2' then 2000 when '3' then 2000
        when '4' then 2100 when '5' then 2100
        when '6' then 2200 when '7' then 2200
        when '8' then 2300 when '9' then 2300
    end + cast(substr(personal_id, 5, 2) as integer)) as id_birth_year,
        case
        when substr(personal_id, 4, 1) in ('0', '2', '4', '6', '8') then 'M'
        when substr(personal_id, 4, 1) in ('1', '3', '5', '7', '9') then 'F'
    end as id_sex
    from renamed
),

communes_checked as (
    select
        normalised.*,
        case
            when normalised.commune_code is null then 'missing'
            when communes.commune_code is not null then 'current'
            else 'unknown'
        end as commune_status,
        prefixes.id_prefix is not null as id_prefix_valid
    from normalised
    left join "warehouse"."reference"."admin_communes" as communes
        on normalised.commune_code = communes.commune_code
    left join "warehouse"."reference"."id_province_codes" as prefixes
        on substr(normalised.personal_id, 1, 3) = prefixes.id_prefix
),

final as (
    select
        personal_id,
        full_name,
        name_norm,
        name_unaccented,
        name_has_diacritics,
        family_name,
        middle_name,
        given_name,
        birth_date,
        birth_date_precision,
        year(birth_date) as birth_year,
        birth_date_present,
        birth_date_invalid,
        sex,
        ethnicity,
        commune_code,
        commune_status,
        household_id,
        relation_to_head,
        legacy_id9,
        legacy_id9_valid,
        father_id,
        mother_id,
        status,
        case when death_date_parsed <= cast('2026-11-25' as date) then death_date_parsed end as death_date,
        (coalesce(trim(death_date_raw) <> '', false) and (death_date_parsed is null or death_date_parsed > cast('2026-11-25' as date))) as death_date_invalid,
        id_prefix_valid,
        id_birth_year,
        id_sex,
        updated_at,
        as_of
    from communes_checked
)

select * from final
  );
