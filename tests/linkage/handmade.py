"""A hand-made staging layer (the columns of the staging interface the linkage reads), small and synthetic."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

FAMILY = [
    "nguyễn",
    "trần",
    "lê",
    "phạm",
    "hoàng",
    "huỳnh",
    "phan",
    "vũ",
    "võ",
    "đặng",
    "bùi",
    "đỗ",
    "hồ",
    "ngô",
]
MIDDLE_M = ["văn", "đức", "minh", "quang", "hữu", "công"]
MIDDLE_F = ["thị", "ngọc", "thu", "thanh", "kim", "mỹ"]
GIVEN_M = [
    "an",
    "bình",
    "cường",
    "dũng",
    "hùng",
    "khánh",
    "long",
    "nam",
    "phúc",
    "quân",
    "sơn",
    "tài",
    "thắng",
    "trung",
    "tuấn",
    "việt",
    "hải",
    "hiếu",
    "đạt",
    "lâm",
]
GIVEN_F = [
    "anh",
    "chi",
    "dung",
    "giang",
    "hà",
    "hạnh",
    "hương",
    "lan",
    "linh",
    "mai",
    "ngọc",
    "nhung",
    "oanh",
    "phương",
    "quỳnh",
    "thảo",
    "trang",
    "vân",
    "yến",
    "thúy",
]
COMMUNES = ["26734", "26737", "26740", "26743", "26746", "26749"]


@dataclass
class Person:
    personal_id: str
    name: str
    birth_date: dt.date
    sex: str
    commune: str
    mother_id: str | None = None
    precision: str = "day"
    household_id: str | None = None
    relation: str | None = None


def people(n: int = 400, seed: int = 3) -> list[Person]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        male = rng.random() < 0.5
        name = " ".join(
            [
                rng.choice(FAMILY),
                rng.choice(MIDDLE_M if male else MIDDLE_F),
                rng.choice(GIVEN_M if male else GIVEN_F),
            ]
        )
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
        out.append(Person(f"0791{i:08d}", name, born, "M" if male else "F", rng.choice(COMMUNES)))
    return out


def load(con, master: list[Person], records: list[dict]) -> None:
    """Create staging.stg_population__citizen and the four sector views from Python rows.

    `records`: dicts with source, source_record_id, name, birth_date, sex, commune, and optionally id12
    (a 12-digit ID, linked deterministically when it is a master ID), mother_id, mother_name, entry_type.
    """
    con.execute("create schema if not exists staging")
    con.execute("create schema if not exists handmade")
    con.execute(
        """create or replace table handmade.master (personal_id varchar, full_name varchar, birth_date date,
           birth_date_precision varchar, sex varchar, commune_code varchar, mother_id varchar,
           household_id varchar, relation_to_head varchar)"""
    )
    con.executemany(
        "insert into handmade.master values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [p.personal_id, p.name, p.birth_date, p.precision, p.sex, p.commune, p.mother_id, p.household_id]
            + [p.relation]
            for p in master
        ],
    )
    con.execute(
        """create or replace table handmade.records (source varchar, source_record_id varchar,
           full_name varchar,
           birth_date date, sex varchar, commune_code varchar, id12 varchar, mother_id varchar,
           mother_name varchar, entry_type varchar, spouse_name varchar, spouse_id varchar)"""
    )
    con.executemany(
        "insert into handmade.records values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                r["source"],
                r["source_record_id"],
                r.get("name"),
                r.get("birth_date"),
                r.get("sex"),
                r.get("commune"),
                r.get("id12"),
                r.get("mother_id"),
                r.get("mother_name"),
                r.get("entry_type"),
                r.get("spouse_name"),
                r.get("spouse_id"),
            ]
            for r in records
        ],
    )
    names = """
        lower(trim({c})) as name_norm,
        replace(strip_accents(lower(trim({c}))), 'đ', 'd') as name_unaccented,
        nullif(regexp_extract(lower(trim({c})), '^([^ ]+) ', 1), '') as family_name,
        nullif(regexp_extract(lower(trim({c})), '^[^ ]+ (.+) [^ ]+$', 1), '') as middle_name,
        nullif(regexp_extract(lower(trim({c})), '([^ ]+)$', 1), '') as given_name"""
    con.execute(
        f"""create or replace view staging.stg_population__citizen as
            select personal_id, {names.format(c="full_name")}, birth_date, birth_date_precision, sex,
                   commune_code, full_name, cast(null as integer) as id_birth_year, household_id,
                   relation_to_head, cast(null as varchar) as father_id, cast(null as date) as death_date,
                   mother_id, cast(null as varchar) as legacy_id9, cast(null as boolean) as legacy_id9_valid
            from handmade.master"""
    )
    views = {
        "vaccination": "stg_vaccination__doi_tuong",
        "social": "stg_social__beneficiary",
        "civil": "stg_civil__ho_tich",
        "children": "stg_children__tre_em",
    }
    for source, view in views.items():
        con.execute(
            f"""create or replace view staging.{view} as
                select source, source_record_id,
                       case when id12 is null then 'missing' else 'id12' end as id_kind, id12,
                       cast(null as varchar) as id9, {names.format(c="full_name")},
                       birth_date, sex, commune_code, entry_type,
                       case when mother_id is null then 'missing' else 'id12' end as mother_id_kind,
                       mother_id as mother_id12,
                       replace(strip_accents(lower(mother_name)), 'đ', 'd') as mother_name_unaccented,
                       full_name, cast(null as varchar) as father_name_norm,
                       lower(trim(spouse_name)) as spouse_name_norm,
                       spouse_id as spouse_id_clean, cast(null as date) as death_date
                from handmade.records where source = '{source}'"""
        )


def record_of(p: Person, source: str, key: str, **changes) -> dict:
    """A sector record of person `p` without an ID (changes override fields)."""
    row = {
        "source": source,
        "source_record_id": key,
        "name": p.name,
        "birth_date": p.birth_date,
        "sex": p.sex,
        "commune": p.commune,
    }
    row.update(changes)
    return row


def namesake_world(n: int = 400) -> tuple[list[Person], list[dict]]:
    """`n` people and two namesakes (one name, birth date and sex; two communes); records of the first 90 people
    (60 vaccination, 30 social) and one civil record of the first namesake (`namesake_a`)."""
    master = people(n)
    a = Person("079199000001", "nguyễn văn namsake", dt.date(1990, 5, 17), "M", COMMUNES[0])
    b = Person("079199000002", "nguyễn văn namsake", dt.date(1990, 5, 17), "M", COMMUNES[1])
    master += [a, b]
    records = [record_of(p, "vaccination", f"v{i}") for i, p in enumerate(master[:60])]
    records += [record_of(p, "social", f"s{i}") for i, p in enumerate(master[60:90])]
    records.append(record_of(a, "civil", "namesake_a"))
    return master, records
