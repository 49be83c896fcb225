
  
  create view "warehouse"."staging"."stg_civil__ho_tich__dbt_tmp" as (
    with

source as (
    select * from "warehouse"."raw"."civil__ho_tich"
),

renamed as (
    select
        'civil' as source,
        trim(id) as source_record_id,
        ho_ten as full_name,
        ngay_sinh as birth_date_raw,
        cast((case when year(try_strptime(trim(ngay_sinh), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(ngay_sinh), ['%Y-%m-%d']) end) as date) as birth_date_parsed,
        case lower(trim(nfc_normalize(gioi_tinh)))
        when 'nam' then 'M'
        when 'nữ' then 'F'
        when 'nu' then 'F'
        when '1' then 'M'
        when '2' then 'F'
        when 'm' then 'M'
        when 'f' then 'F'
    end as sex,
        so_dinh_danh as id_raw,
        ngay_dang_ky as registered_on_raw,
        cast((case when year(try_strptime(trim(ngay_dang_ky), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(ngay_dang_ky), ['%Y-%m-%d']) end) as date) as registered_on_parsed,
        -- noi_dang_ky is a code of the list in force on ngay_dang_ky
        case when cast((case when year(try_strptime(trim(ngay_dang_ky), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(ngay_dang_ky), ['%Y-%m-%d']) end) as date) >= cast('2025-07-01' as date) then nullif(trim(noi_dang_ky), '') end
            as commune_code_current_raw,
        case when cast((case when year(try_strptime(trim(ngay_dang_ky), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(ngay_dang_ky), ['%Y-%m-%d']) end) as date) is null or cast((case when year(try_strptime(trim(ngay_dang_ky), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(ngay_dang_ky), ['%Y-%m-%d']) end) as date) < cast('2025-07-01' as date)
        then nullif(trim(noi_dang_ky), '') end
            as commune_code_old_raw,
        (case when year(try_strptime(trim(cap_nhat_luc), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d'])) >= 1000 then try_strptime(trim(cap_nhat_luc), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d']) end) as updated_at,
        cap_nhat_luc as updated_at_raw,
        cast('2026-11-25' as date) as as_of,
        upper(nullif(trim(loai), '')) as entry_type,
        nullif(trim(quyen_so), '') as book_number,
        nullif(trim(so_dang_ky), '') as entry_number,
        upper(nullif(trim(trang_thai_so_hoa), '')) as digitisation_status,
        ngay_chet as death_date_raw,
        cast((case when year(try_strptime(trim(ngay_chet), ['%Y-%m-%d'])) >= 1000 then try_strptime(trim(ngay_chet), ['%Y-%m-%d']) end) as date) as death_date_parsed,
        nullif(trim(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace((' ' || trim(regexp_replace(lower(nfc_normalize(ho_ten_cha)), '[\s\x{00a0}\x{2000}-\x{200a}\x{3000}]+', ' ', 'g')) || ' '), 'oà ', 'òa '), 'oá ', 'óa '), 'oả ', 'ỏa '), 'oã ', 'õa '), 'oạ ', 'ọa '), 'oè ', 'òe '), 'oé ', 'óe '), 'oẻ ', 'ỏe '), 'oẽ ', 'õe '), 'oẹ ', 'ọe '), 'uỳ ', 'ùy '), 'uý ', 'úy '), 'uỷ ', 'ủy '), 'uỹ ', 'ũy '), 'uỵ ', 'ụy '), 'qùy ', 'quỳ '), 'qúy ', 'quý '), 'qủy ', 'quỷ '), 'qũy ', 'quỹ '), 'qụy ', 'quỵ '), 'oà-', 'òa-'), 'oá-', 'óa-'), 'oả-', 'ỏa-'), 'oã-', 'õa-'), 'oạ-', 'ọa-'), 'oè-', 'òe-'), 'oé-', 'óe-'), 'oẻ-', 'ỏe-'), 'oẽ-', 'õe-'), 'oẹ-', 'ọe-'), 'uỳ-', 'ùy-'), 'uý-', 'úy-'), 'uỷ-', 'ủy-'), 'uỹ-', 'ũy-'), 'uỵ-', 'ụy-'), 'qùy-', 'quỳ-'), 'qúy-', 'quý-'), 'qủy-', 'quỷ-'), 'qũy-', 'quỹ-'), 'qụy-', 'quỵ-')), '') as father_name_norm,
        nullif(trim(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace((' ' || trim(regexp_replace(lower(nfc_normalize(ho_ten_me)), '[\s\x{00a0}\x{2000}-\x{200a}\x{3000}]+', ' ', 'g')) || ' '), 'oà ', 'òa '), 'oá ', 'óa '), 'oả ', 'ỏa '), 'oã ', 'õa '), 'oạ ', 'ọa '), 'oè ', 'òe '), 'oé ', 'óe '), 'oẻ ', 'ỏe '), 'oẽ ', 'õe '), 'oẹ ', 'ọe '), 'uỳ ', 'ùy '), 'uý ', 'úy '), 'uỷ ', 'ủy '), 'uỹ ', 'ũy '), 'uỵ ', 'ụy '), 'qùy ', 'quỳ '), 'qúy ', 'quý '), 'qủy ', 'quỷ '), 'qũy ', 'quỹ '), 'qụy ', 'quỵ '), 'oà-', 'òa-'), 'oá-', 'óa-'), 'oả-', 'ỏa-'), 'oã-', 'õa-'), 'oạ-', 'ọa-'), 'oè-', 'òe-'), 'oé-', 'óe-'), 'oẻ-', 'ỏe-'), 'oẽ-', 'õe-'), 'oẹ-', 'ọe-'), 'uỳ-', 'ùy-'), 'uý-', 'úy-'), 'uỷ-', 'ủy-'), 'uỹ-', 'ũy-'), 'uỵ-', 'ụy-'), 'qùy-', 'quỳ-'), 'qúy-', 'quý-'), 'qủy-', 'quỷ-'), 'qũy-', 'quỹ-'), 'qụy-', 'quỵ-')), '') as mother_name_norm,
        nullif(trim(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace((' ' || trim(regexp_replace(lower(nfc_normalize(ho_ten_2)), '[\s\x{00a0}\x{2000}-\x{200a}\x{3000}]+', ' ', 'g')) || ' '), 'oà ', 'òa '), 'oá ', 'óa '), 'oả ', 'ỏa '), 'oã ', 'õa '), 'oạ ', 'ọa '), 'oè ', 'òe '), 'oé ', 'óe '), 'oẻ ', 'ỏe '), 'oẽ ', 'õe '), 'oẹ ', 'ọe '), 'uỳ ', 'ùy '), 'uý ', 'úy '), 'uỷ ', 'ủy '), 'uỹ ', 'ũy '), 'uỵ ', 'ụy '), 'qùy ', 'quỳ '), 'qúy ', 'quý '), 'qủy ', 'quỷ '), 'qũy ', 'quỹ '), 'qụy ', 'quỵ '), 'oà-', 'òa-'), 'oá-', 'óa-'), 'oả-', 'ỏa-'), 'oã-', 'õa-'), 'oạ-', 'ọa-'), 'oè-', 'òe-'), 'oé-', 'óe-'), 'oẻ-', 'ỏe-'), 'oẽ-', 'õe-'), 'oẹ-', 'ọe-'), 'uỳ-', 'ùy-'), 'uý-', 'úy-'), 'uỷ-', 'ủy-'), 'uỹ-', 'ũy-'), 'uỵ-', 'ụy-'), 'qùy-', 'quỳ-'), 'qúy-', 'quý-'), 'qủy-', 'quỷ-'), 'qũy-', 'quỹ-'), 'qụy-', 'quỵ-')), '') as spouse_name_norm,
        nullif(replace(replace(so_dinh_danh_2, ' ', ''), '.', ''), '') as spouse_id_clean
    from source
),

normalised as (
    select
        ids.*,
        case when ids.id12 is not null then prefixes.id_prefix is not null end as id_prefix_valid,
        case when ids.id12 is not null then (case substr(ids.id12, 4, 1)
        when '0' then 1900 when '1' then 1900
        when '2' then 2000 when '3' then 2000
        when '4' then 2100 when '5' then 2100
        when '6' then 2200 when '7' then 2200
        when '8' then 2300 when '9' then 2300
    end + cast(substr(ids.id12, 5, 2) as integer)) end as id_birth_year,
        case when ids.id12 is not null then case
        when substr(ids.id12, 4, 1) in ('0', '2', '4', '6', '8') then 'M'
        when substr(ids.id12, 4, 1) in ('1', '3', '5', '7', '9') then 'F'
    end end as id_sex
    from (
        select
            names.*,
            replace(strip_accents(names.name_norm), 'đ', 'd') as name_unaccented,
            names.name_norm <> replace(strip_accents(names.name_norm), 'đ', 'd') as name_has_diacritics,
            nullif(regexp_extract(names.name_norm, '^([^ ]+) ', 1), '') as family_name,
            nullif(regexp_extract(names.name_norm, '^[^ ]+ (.+) [^ ]+$', 1), '') as middle_name,
            nullif(regexp_extract(names.name_norm, '([^ ]+)$', 1), '') as given_name,
            case
        when not coalesce(trim(names.id_raw) <> '', false) then 'missing'
        when names.id_clean is null then 'malformed'
        when regexp_matches(names.id_clean, '^[0-9]{12}$') then 'id12'
        when regexp_matches(names.id_clean, '^[0-9]{10,11}$') then 'repaired12'
        when regexp_matches(names.id_clean, '^[0-9]{9}$') then 'cmnd9'
        else 'malformed'
    end as id_kind,
            case
                when case
        when not coalesce(trim(names.id_raw) <> '', false) then 'missing'
        when names.id_clean is null then 'malformed'
        when regexp_matches(names.id_clean, '^[0-9]{12}$') then 'id12'
        when regexp_matches(names.id_clean, '^[0-9]{10,11}$') then 'repaired12'
        when regexp_matches(names.id_clean, '^[0-9]{9}$') then 'cmnd9'
        else 'malformed'
    end in ('id12', 'repaired12')
                    then case when regexp_matches(names.id_clean, '^[0-9]{10,12}$') then lpad(names.id_clean, 12, '0') end
            end as id12,
            case when regexp_matches(names.id_clean, '^[0-9]{9}$') then names.id_clean end as id9
        from (
            select
                src.*,
                nullif(trim(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace((' ' || trim(regexp_replace(lower(nfc_normalize(src.full_name)), '[\s\x{00a0}\x{2000}-\x{200a}\x{3000}]+', ' ', 'g')) || ' '), 'oà ', 'òa '), 'oá ', 'óa '), 'oả ', 'ỏa '), 'oã ', 'õa '), 'oạ ', 'ọa '), 'oè ', 'òe '), 'oé ', 'óe '), 'oẻ ', 'ỏe '), 'oẽ ', 'õe '), 'oẹ ', 'ọe '), 'uỳ ', 'ùy '), 'uý ', 'úy '), 'uỷ ', 'ủy '), 'uỹ ', 'ũy '), 'uỵ ', 'ụy '), 'qùy ', 'quỳ '), 'qúy ', 'quý '), 'qủy ', 'quỷ '), 'qũy ', 'quỹ '), 'qụy ', 'quỵ '), 'oà-', 'òa-'), 'oá-', 'óa-'), 'oả-', 'ỏa-'), 'oã-', 'õa-'), 'oạ-', 'ọa-'), 'oè-', 'òe-'), 'oé-', 'óe-'), 'oẻ-', 'ỏe-'), 'oẽ-', 'õe-'), 'oẹ-', 'ọe-'), 'uỳ-', 'ùy-'), 'uý-', 'úy-'), 'uỷ-', 'ủy-'), 'uỹ-', 'ũy-'), 'uỵ-', 'ụy-'), 'qùy-', 'quỳ-'), 'qúy-', 'quý-'), 'qủy-', 'quỷ-'), 'qũy-', 'quỹ-'), 'qụy-', 'quỵ-')), '') as name_norm,
                case when src.birth_date_parsed <= cast('2026-11-25' as date) then src.birth_date_parsed end as birth_date,
                coalesce(trim(src.birth_date_raw) <> '', false) as birth_date_present,
                (coalesce(trim(src.birth_date_raw) <> '', false) and (src.birth_date_parsed is null or src.birth_date_parsed > cast('2026-11-25' as date))) as birth_date_invalid,
                coalesce(trim(src.id_raw) <> '', false) as id_raw_present,
                nullif(replace(replace(src.id_raw, ' ', ''), '.', ''), '') as id_clean
            from renamed as src
        ) as names
    ) as ids
    left join "warehouse"."reference"."id_province_codes" as prefixes
        on substr(ids.id12, 1, 3) = prefixes.id_prefix
),

communes_resolved as (
    select
        src.*,
        case
            when src.commune_code_current_raw is not null then cur.commune_code
            when src.commune_code_old_raw is not null then xw.new_commune_code
        end as commune_code,
        case
            when src.commune_code_current_raw is not null and cur.commune_code is not null then 'current'
            when src.commune_code_current_raw is not null then 'unknown'
            when src.commune_code_old_raw is not null and xw.new_commune_code is not null then 'mapped_old'
            when src.commune_code_old_raw is not null then 'unknown'
            else 'missing'
        end as commune_status
    from normalised as src
    left join "warehouse"."reference"."admin_communes" as cur
        on src.commune_code_current_raw = cur.commune_code
    left join "warehouse"."reference"."admin_communes_legacy" as old
        on src.commune_code_current_raw is null
        and src.commune_code_old_raw = old.commune_code
    left join "warehouse"."reference"."commune_crosswalk" as xw
        on old.commune_code = xw.old_commune_code
        and xw.is_default
),

final as (
    select
        source,
        source_record_id,
        full_name,
        name_norm,
        name_unaccented,
        name_has_diacritics,
        family_name,
        middle_name,
        given_name,
        birth_date,
        birth_date_present,
        birth_date_invalid,
        sex,
        id_raw_present,
        id_clean,
        id_kind,
        id12,
        id9,
        id_prefix_valid,
        id_birth_year,
        id_sex,
        commune_code_current_raw,
        commune_code_old_raw,
        commune_code,
        commune_status,
        updated_at,
        as_of,
        (coalesce(trim(updated_at_raw) <> '', false) and (cast(updated_at as date) is null or cast(updated_at as date) > cast('2026-11-25' as date))) as updated_at_invalid,
        entry_type,
        digitisation_status,
        case when death_date_parsed <= cast('2026-11-25' as date) then death_date_parsed end as death_date,
        coalesce(trim(death_date_raw) <> '', false) as death_date_present,
        (coalesce(trim(death_date_raw) <> '', false) and (death_date_parsed is null or death_date_parsed > cast('2026-11-25' as date))) as death_date_invalid,
        case when registered_on_parsed <= cast('2026-11-25' as date) then registered_on_parsed end as registered_on,
        coalesce(trim(registered_on_raw) <> '', false) as registered_on_present,
        (coalesce(trim(registered_on_raw) <> '', false) and (registered_on_parsed is null or registered_on_parsed > cast('2026-11-25' as date))) as registered_on_invalid,
        book_number,
        entry_number,
        father_name_norm,
        mother_name_norm,
        replace(strip_accents(mother_name_norm), 'đ', 'd') as mother_name_unaccented,
        spouse_name_norm,
        spouse_id_clean
    from communes_resolved
)

select * from final
  );
