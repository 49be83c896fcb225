"""The two linkage inputs, built in DuckDB from the staging interface: the master and the unlinked residue."""

from __future__ import annotations

# The columns both inputs carry, in one order (Splink needs the same columns on both sides).
FEATURE_COLUMNS = (
    "unique_id",
    "name_norm",
    "name_unaccented",
    "family_name",
    "middle_name",
    "given_name",
    "family_unaccented",
    "middle_unaccented",
    "given_unaccented",
    "birth_date",
    "birth_date_precision",
    "birth_year",
    "sex",
    "commune_code",
    "mother_id",
    "mother_name_unaccented",
)

SECTOR_VIEWS = {
    "vaccination": "stg_vaccination__doi_tuong",
    "social": "stg_social__beneficiary",
    "civil": "stg_civil__ho_tich",
    "children": "stg_children__tre_em",
}

# The same split as the staging macros name_family / name_middle / name_given, on the accent-free name.
_SPLIT = """
        nullif(regexp_extract({c}, '^([^ ]+) ', 1), '') as family_unaccented,
        nullif(regexp_extract({c}, '^[^ ]+ (.+) [^ ]+$', 1), '') as middle_unaccented,
        nullif(regexp_extract({c}, '([^ ]+)$', 1), '') as given_unaccented"""


def master_sql(staging: str = "staging") -> str:
    """Every master citizen with the comparison columns (the mother's name through `mother_id`)."""
    return f"""
    with citizens as (
        select * from {staging}.stg_population__citizen
    ),
    mothers as (
        select personal_id, name_unaccented from citizens
    )
    select
        c.personal_id as unique_id,
        c.name_norm,
        c.name_unaccented,
        c.family_name,
        c.middle_name,
        c.given_name,{_SPLIT.format(c="c.name_unaccented")},
        c.birth_date,
        case
            when c.birth_date is not null then coalesce(c.birth_date_precision, 'day')
        end as birth_date_precision,
        year(c.birth_date) as birth_year,
        c.sex,
        c.commune_code,
        c.mother_id,
        mothers.name_unaccented as mother_name_unaccented
    from citizens as c
    left join mothers
        on c.mother_id = mothers.personal_id
    where c.personal_id is not null
    """


def _sector_select(source: str, view: str, staging: str) -> str:
    if source == "children":
        mother = """
            case when mother_id_kind in ('id12', 'repaired12') then mother_id12 end as mother_id,
            mother_name_unaccented"""
    elif source == "civil":
        # only a birth entry names the subject's mother
        mother = """
            cast(null as varchar) as mother_id,
            case when entry_type = 'KHAI_SINH' then mother_name_unaccented end as mother_name_unaccented"""
    else:
        mother = """
            cast(null as varchar) as mother_id,
            cast(null as varchar) as mother_name_unaccented"""
    return f"""
        select
            source, source_record_id, id_kind, id12, id9,
            name_norm, name_unaccented, family_name, middle_name, given_name,
            birth_date, sex, commune_code,{mother}
        from {staging}.{view}"""


def residue_sql(staging: str = "staging", sources: tuple[str, ...] = tuple(SECTOR_VIEWS)) -> str:
    """Sector records no ID links (the same rule as int_links_deterministic) that have a name to compare."""
    return _records_sql(staging, sources, holdout=None)


def holdout_sql(size: int, staging: str = "staging", sources: tuple[str, ...] = tuple(SECTOR_VIEWS)) -> str:
    """A reproducible sample of records linked by their own 12-digit ID, with `true_personal_id` (labels)."""
    return _records_sql(staging, sources, holdout=size)


def _records_sql(staging: str, sources: tuple[str, ...], holdout: int | None) -> str:
    if holdout is None:
        keep = "citizens.personal_id is null and unique_legacy.legacy_id9 is null"
        label, sample = "", ""
    else:
        keep = "records.id_kind = 'id12' and citizens.personal_id is not null"
        label = ",\n        id12 as true_personal_id"
        order = "hash(source || ':' || source_record_id), source, source_record_id"
        sample = f"\n    order by {order} limit {int(holdout)}"
    union = "\n        union all".join(_sector_select(s, SECTOR_VIEWS[s], staging) for s in sources)
    return f"""
    with records as ({union}
    ),
    citizens as (
        select personal_id from {staging}.stg_population__citizen
    ),
    unique_legacy as (
        select legacy_id9
        from {staging}.stg_population__citizen
        where legacy_id9_valid
        group by legacy_id9
        having count(distinct personal_id) = 1
    ),
    residue as (
        select records.*
        from records
        left join citizens
            on records.id_kind in ('id12', 'repaired12') and records.id12 = citizens.personal_id
        left join unique_legacy
            on records.id_kind = 'cmnd9' and records.id9 = unique_legacy.legacy_id9
        where {keep}
            and records.name_norm is not null
            and records.source_record_id is not null
    )
    select
        source || ':' || source_record_id as unique_id,
        name_norm,
        name_unaccented,
        family_name,
        middle_name,
        given_name,{_SPLIT.format(c="name_unaccented")},
        birth_date,
        case when birth_date is not null then 'day' end as birth_date_precision,
        year(birth_date) as birth_year,
        sex,
        commune_code,
        mother_id,
        mother_name_unaccented,
        source,
        source_record_id{label}
    from residue{sample}
    """


def build_inputs(con, schema: str, staging: str = "staging") -> tuple[str, str]:
    """Materialise `<schema>.lk_master` and `<schema>.lk_records`; return their qualified names."""
    con.execute(f"create schema if not exists {schema}")
    master, records = f"{schema}.lk_master", f"{schema}.lk_records"
    con.execute(f"create or replace table {master} as {master_sql(staging)}")
    con.execute(f"create or replace table {records} as {residue_sql(staging)}")
    return master, records


def splink_views(con, schema: str, master: str, records: str, suffix: str = "") -> tuple[str, str]:
    """Views with exactly the feature columns (Splink wants the same columns on both inputs)."""
    cols = ", ".join(FEATURE_COLUMNS)
    con.execute(f"create or replace view {schema}.splink_master{suffix} as select {cols} from {master}")
    con.execute(f"create or replace view {schema}.splink_records{suffix} as select {cols} from {records}")
    return f"splink_master{suffix}", f"splink_records{suffix}"  # unqualified: Splink looks columns up by name
