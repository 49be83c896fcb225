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
    "father_name_norm",
    "spouse_id",
    "spouse_name_norm",
    "death_date",
)


def fingerprint_sql(alias: str) -> str:
    """md5 of every compared field of one side (`alias`): a steward's decision stands while both sides' do.

    Computed only where a decision or a queued pair needs it, not for every row of the inputs; NULL where the
    side is missing (an outer join found no row).
    """
    fields = ", ".join(f"coalesce(cast({alias}.{c} as varchar), '')" for c in FEATURE_COLUMNS)
    return f"case when {alias}.unique_id is not null then md5(concat_ws('|', {fields})) end"


# A hash of exactly what Splink compares of one side (DuckDB's hash of the row of feature columns: NULL apart
# from '', each field apart from its neighbours): equal hashes on two nights mean the row scores the same
# against anything, with the same night-wide parameters (a 64-bit collision between a row's two versions is
# the only way to miss a change). The incremental linkage diffs (unique_id, input_hash) against the kept state.
INPUT_HASH = f"hash(struct_pack({', '.join(FEATURE_COLUMNS)})) as input_hash"

SECTOR_VIEWS = {
    "vaccination": "stg_vaccination__doi_tuong",
    "social": "stg_social__beneficiary",
    "civil": "stg_civil__ho_tich",
    "children": "stg_children__tre_em",
}

# The same split as the staging macros name_family / name_middle / name_given, on the accent-free name (which
# staging leaves with single spaces, trimmed): family = the first of two or more words, middle = the words between
# the first and the last of three or more, given = the last word. List functions, not the macros' regexes: a
# third of the cost of the master's input.
_SPLIT = """
        case when len({w}) >= 2 then {w}[1] end as family_unaccented,
        case when len({w}) >= 3 then array_to_string({w}[2:-2], ' ') end as middle_unaccented,
        nullif({w}[-1], '') as given_unaccented"""


def master_sql(staging: str = "staging") -> str:
    """Every master citizen with the comparison columns and the people around them.

    The mother and father through `mother_id` / `father_id`; the spouse through the household (the other of
    HEAD and SPOUSE, of the other sex). Where the master has no birth date, the birth year the personal ID
    encodes (digits 4-6) stands in, at year precision.
    """
    return f"""
    with citizens as (
        select
            personal_id, full_name, name_norm, name_unaccented, family_name, middle_name, given_name,
            birth_date, birth_date_precision, id_birth_year, sex, commune_code, household_id, relation_to_head,
            mother_id, father_id, death_date
        from {staging}.stg_population__citizen
        where personal_id is not null
    ),
    couples as (
        select personal_id, household_id, sex, name_norm
        from citizens
        where relation_to_head in ('HEAD', 'SPOUSE') and household_id is not null
    ),
    spouses as (
        select a.personal_id, min(b.personal_id) as spouse_id, min(b.name_norm) as spouse_name_norm
        from couples as a
        join couples as b
            on a.household_id = b.household_id
            and a.personal_id <> b.personal_id
            and a.sex is distinct from b.sex
        group by a.personal_id
        having count(*) = 1
    ),
    -- the people around each citizen, joined on narrow rows (the wide row is joined once, below)
    around as (
        select
            c.personal_id,
            c.mother_id,
            c.father_id,
            mothers.name_unaccented as mother_name_unaccented,
            fathers.name_norm as father_name_norm,
            spouses.spouse_id,
            spouses.spouse_name_norm
        -- distinct: a personal ID the master holds twice keeps the multiplicity of the rows it joins
        from (select distinct personal_id, mother_id, father_id from citizens) as c
        left join (select personal_id, name_unaccented from citizens) as mothers
            on c.mother_id = mothers.personal_id
        left join (select personal_id, name_norm from citizens) as fathers
            on c.father_id = fathers.personal_id
        left join spouses
            on c.personal_id = spouses.personal_id
        where c.mother_id is not null or c.father_id is not null or spouses.personal_id is not null
    )
    select
        c.personal_id as unique_id,
        c.name_norm,
        c.name_unaccented,
        c.family_name,
        c.middle_name,
        c.given_name,{_SPLIT.format(w="string_split(c.name_unaccented, ' ')")},
        c.birth_date,
        case
            when c.birth_date is not null then coalesce(c.birth_date_precision, 'day')
            when c.id_birth_year is not null then 'year'
        end as birth_date_precision,
        coalesce(year(c.birth_date), c.id_birth_year) as birth_year,
        c.sex,
        c.commune_code,
        c.mother_id,
        around.mother_name_unaccented,
        around.father_name_norm,
        around.spouse_id,
        around.spouse_name_norm,
        c.death_date,
        c.full_name,
        case
            when c.birth_date is null and c.id_birth_year is not null then '~' || c.id_birth_year || ' (ID)'
            when c.birth_date_precision = 'year' then strftime(c.birth_date, '%Y')
            when c.birth_date_precision = 'month' then strftime(c.birth_date, '%Y-%m')
            else strftime(c.birth_date, '%Y-%m-%d')
        end as birth_text
    from citizens as c
    left join around
        on c.personal_id = around.personal_id
        and c.mother_id is not distinct from around.mother_id
        and c.father_id is not distinct from around.father_id
    """


def _sector_select(source: str, view: str, staging: str) -> str:
    none = "cast(null as varchar)"
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
        mother = f"""
            {none} as mother_id,
            {none} as mother_name_unaccented"""
    if source == "civil":
        # a birth entry names the father, a marriage entry the wife (the subject is the husband), a death
        # entry the date of death
        around = """
            case when entry_type = 'KHAI_SINH' then father_name_norm end as father_name_norm,
            case when entry_type = 'KET_HON' and regexp_matches(spouse_id_clean, '^[0-9]{12}$')
                then spouse_id_clean end as spouse_id,
            case when entry_type = 'KET_HON' then spouse_name_norm end as spouse_name_norm,
            case when entry_type = 'KHAI_TU' then death_date end as death_date"""
    else:
        around = f"""
            {none} as father_name_norm,
            {none} as spouse_id,
            {none} as spouse_name_norm,
            cast(null as date) as death_date"""
    # the kind of record a person has at most one of, usually: a civil entry per type, else one per source
    role = "coalesce(entry_type, source)" if source == "civil" else "source"
    return f"""
        select
            source, source_record_id, {role} as role, id_kind, id12, id9,
            name_norm, name_unaccented, family_name, middle_name, given_name,
            birth_date, sex, commune_code, full_name,{mother},{around}
        from {staging}.{view}"""


def residue_sql(staging: str = "staging", sources: tuple[str, ...] = tuple(SECTOR_VIEWS)) -> str:
    """Sector records no ID links (the same rule as int_links_deterministic) that have a name to compare."""
    return _records_sql(staging, sources, holdout=None)


def holdout_sql(size: int, staging: str = "staging", sources: tuple[str, ...] = tuple(SECTOR_VIEWS)) -> str:
    """A reproducible sample of records linked by their own 12-digit ID, with `true_personal_id` (labels)."""
    return _records_sql(staging, sources, holdout=size)


def id_linked_sql(staging: str = "staging", sources: tuple[str, ...] = tuple(SECTOR_VIEWS)) -> str:
    """The people an ID links sector records to, per source, role and the records' commune, with how many (`n`).

    The complement of the residue: the same rule as int_links_deterministic. Read by the linkage's presence and
    corroboration evidence (`scoring.pair_presence`): a person who already has a record of the kind is a less
    likely match for another one; one whose record elsewhere is in the record's commune a likelier one.
    """
    return f"""
    with {_resolved_ctes(staging, sources)}
    select records.source, records.role, coalesce(citizens.personal_id, unique_legacy.personal_id) as personal_id,
        records.commune_code, count(*) as n
    from records
    {_RESOLVE_JOINS}
    where coalesce(citizens.personal_id, unique_legacy.personal_id) is not null
        and records.source_record_id is not null
    group by all
    """


# A sector record's own ID resolved against the master: a 12-digit ID the master knows, or a 9-digit CMND only
# one citizen holds.
_RESOLVE_JOINS = """left join citizens
        on records.id_kind in ('id12', 'repaired12') and records.id12 = citizens.personal_id
    left join unique_legacy
        on records.id_kind = 'cmnd9' and records.id9 = unique_legacy.legacy_id9"""


def _resolved_ctes(staging: str, sources: tuple[str, ...]) -> str:
    union = "\n        union all".join(_sector_select(s, SECTOR_VIEWS[s], staging) for s in sources)
    return f"""records as ({union}
    ),
    citizens as (
        select distinct personal_id from {staging}.stg_population__citizen
    ),
    unique_legacy as (
        select legacy_id9, min(personal_id) as personal_id
        from {staging}.stg_population__citizen
        where legacy_id9_valid
        group by legacy_id9
        having count(distinct personal_id) = 1
    )"""


def _records_sql(staging: str, sources: tuple[str, ...], holdout: int | None) -> str:
    if holdout is None:
        keep = "citizens.personal_id is null and unique_legacy.legacy_id9 is null"
        label, sample = "", ""
    else:
        keep = "records.id_kind = 'id12' and citizens.personal_id is not null"
        label = ",\n        id12 as true_personal_id"
        order = "hash(source || ':' || source_record_id), source, source_record_id"
        sample = f"\n    order by {order} limit {int(holdout)}"
    return f"""
    with {_resolved_ctes(staging, sources)},
    residue as (
        select records.*
        from records
        {_RESOLVE_JOINS}
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
        given_name,{_SPLIT.format(w="string_split(name_unaccented, ' ')")},
        birth_date,
        case when birth_date is not null then 'day' end as birth_date_precision,
        year(birth_date) as birth_year,
        sex,
        commune_code,
        mother_id,
        mother_name_unaccented,
        father_name_norm,
        spouse_id,
        spouse_name_norm,
        death_date,
        full_name,
        strftime(birth_date, '%Y-%m-%d') as birth_text,
        source,
        source_record_id,
        role{label}
    from residue{sample}
    """


def build_inputs(con, schema: str, staging: str = "staging") -> tuple[str, str]:
    """Materialise `<schema>.lk_master` and `<schema>.lk_records`; return their qualified names."""
    from .scoring import open_work

    open_work(con, schema)
    master, records = f"{schema}.lk_master", f"{schema}.lk_records"
    for table, sql in ((master, master_sql(staging)), (records, residue_sql(staging))):
        con.execute(f"create or replace table {table} as select *, {INPUT_HASH} from ({sql})")
    return master, records


def splink_views(con, schema: str, master: str, records: str, suffix: str = "") -> tuple[str, str]:
    """Views with exactly the feature columns (Splink wants the same columns on both inputs)."""
    cols = ", ".join(FEATURE_COLUMNS)
    con.execute(f"create or replace view {schema}.splink_master{suffix} as select {cols} from {master}")
    con.execute(f"create or replace view {schema}.splink_records{suffix} as select {cols} from {records}")
    return f"splink_master{suffix}", f"splink_records{suffix}"  # unqualified: Splink looks columns up by name
