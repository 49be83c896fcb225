"""A small hand-made warehouse of the OUTPUTS.md shape (reference, staging, marts) for report and gate tests.

Deterministic (seeded): a few hundred made-up people in four communes, findings of every criterion, two
nights of indicators. `fct_indicators` is computed from the same counting units the gates read, so that the
report and gate tests can run before (and independently of) the real pipeline.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pandas as pd

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
AS_OF = dt.date(2026, 11, 25)
PREVIOUS = AS_OF - dt.timedelta(days=1)

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc", "Thu"]
GIVEN = [
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Giang",
    "Hà",
    "Hòa",
    "Khánh",
    "Lan",
    "Linh",
    "Mai",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Thúy",
]

SECTOR_RULES = {
    "vaccination": ["ID_MISSING", "NAME_MISMATCH", "COMMUNE_OUTDATED", "RESIDENCE_MISMATCH", "DATE_INVALID"],
    "social": ["ID_MALFORMED", "NAME_UNACCENTED", "PAID_AFTER_DEATH", "FIELD_MISSING", "DECEASED_ACTIVE"],
    "civil": ["NOT_DIGITISED", "ID_MISSING", "BIRTH_DATE_MISMATCH"],
    "children": ["STALE", "ID_MISSING", "SEX_MISMATCH", "DUPLICATE", "COMMUNE_UNKNOWN"],
}


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _pid(rng: random.Random) -> str:
    return "001" + rng.choice("0123") + f"{rng.randint(0, 99):02d}" + f"{rng.randint(0, 999999):06d}"


def build_scratch_warehouse(path: Path, seed: int = 11) -> Path:
    """Write the scratch warehouse to `path` (replaced) and return it."""
    from expectations.gx.units import read_indicators, units_sql  # the tests' own import of the gate SQL

    rng = random.Random(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    for schema in ("reference", "staging", "marts"):
        con.execute(f"create schema {schema}")
    con.execute(f"create table reference.rules as select * from read_csv('{SEEDS / 'rules.csv'}', all_varchar=true)")
    con.execute(
        f"create table reference.indicators as select * replace (cast(target as double) as target)"
        f" from read_csv('{SEEDS / 'indicators.csv'}', all_varchar=true)"
    )
    for table in ("admin_communes", "admin_provinces"):
        con.execute(
            f"create table reference.{table} as select * from read_csv('{SEEDS / (table + '.csv')}', all_varchar=true)"
        )
    rules = dict(con.execute("select rule_code, criterion from reference.rules").fetchall())
    communes = [
        r[0]
        for r in con.execute(
            "select commune_code from reference.admin_communes where province_code = '01' order by 1 limit 4"
        ).fetchall()
    ]

    citizens = []
    for _ in range(240):
        citizens.append(
            {
                "personal_id": _pid(rng),
                "full_name": _name(rng),
                "commune_code": rng.choice(communes + [None] if rng.random() < 0.05 else communes),
            }
        )
    citizens_df = pd.DataFrame(citizens).drop_duplicates("personal_id")
    con.register("citizens_df", citizens_df)
    con.execute("create table staging.stg_population__citizen as select * from citizens_df")

    recon, findings, staging = [], [], {s: [] for s in SECTOR_RULES}
    passports = []
    people = citizens_df.to_dict("records")
    for source, source_rules in SECTOR_RULES.items():
        prefix = {"vaccination": "VX", "social": "", "civil": "", "children": "TE"}[source]
        for number in range(1, 61):
            key = f"{prefix}{number:05d}" if prefix else str(1000 + number)
            person = rng.choice(people)
            linked = rng.random() < 0.85
            commune = person["commune_code"] if rng.random() < 0.9 else None
            record_rules = [r for r in source_rules if rng.random() < 0.12]
            if not linked:
                record_rules.append("NOT_LINKED")
            fails_reconcile = any(rules[r] in ("dung", "sach") for r in record_rules) or "FIELD_MISSING" in record_rules
            recon.append(
                {
                    "source": source,
                    "source_record_id": key,
                    "personal_id": person["personal_id"] if linked else None,
                    "match_method": "personal_id" if linked else "none",
                    "match_probability": 1.0 if linked else None,
                    "commune_code": commune,
                    "is_reconciled": linked and not fails_reconcile,
                    "as_of": AS_OF,
                }
            )
            for rule in record_rules:
                findings.append(
                    {
                        "source": source,
                        "source_record_id": key,
                        "rule_code": rule,
                        "criterion": rules[rule],
                        "commune_code": commune,
                        "as_of": AS_OF,
                    }
                )
            id_clean = person["personal_id"] if rng.random() < 0.8 else None
            row = {
                "source": source,
                "source_record_id": key,
                "full_name": person["full_name"],
                "id_clean": id_clean,
                "commune_code": commune,
            }
            if source == "social":
                row |= {
                    "status": rng.choice(["ACTIVE", "ACTIVE", "STOPPED"]),
                    "pay_method": rng.choice(["ACCOUNT", "CASH"]),
                    "bank_account": "0123456789",
                }
            if source == "civil":
                row |= {"digitisation_status": rng.choice(["DA_SO_HOA", "DA_SO_HOA", "DA_NHAP", "CHUA_SO_HOA"])}
            staging[source].append(row)
            if source == "vaccination" and rng.random() < 0.7:
                passports.append({"source_record_id": key})
    for person in people[:40]:
        rule = rng.choice(["FIELD_MISSING", "ID_CONFLICT", "CHILD_NOT_IN_REGISTRY", "DEATH_NOT_RECORDED"])
        findings.append(
            {
                "source": "population",
                "source_record_id": person["personal_id"],
                "rule_code": rule,
                "criterion": rules[rule],
                "commune_code": person["commune_code"],
                "as_of": AS_OF,
            }
        )
    findings.append(
        {
            "source": "population",
            "source_record_id": "HH000123",
            "rule_code": "HOUSEHOLD_NO_HEAD",
            "criterion": "sach",
            "commune_code": communes[0],
            "as_of": AS_OF,
        }
    )

    views = {
        "vaccination": "stg_vaccination__doi_tuong",
        "social": "stg_social__beneficiary",
        "civil": "stg_civil__ho_tich",
        "children": "stg_children__tre_em",
    }
    for source, view in views.items():
        frame = pd.DataFrame(staging[source])
        con.register("frame", frame)
        con.execute(f"create table staging.{view} as select * from frame")
        con.unregister("frame")
    con.register("passports_df", pd.DataFrame(passports))
    con.execute("create table staging.stg_vaccination__ho_chieu_vac_xin as select * from passports_df")
    con.register("recon_df", pd.DataFrame(recon))
    con.execute(
        "create table marts.fct_reconciliation as select * replace (cast(as_of as date) as as_of) from recon_df"
    )
    con.register("findings_df", pd.DataFrame(findings))
    con.execute("create table marts.fct_findings as select * replace (cast(as_of as date) as as_of) from findings_df")

    # fct_indicators from the same counting units as the gates, at province and commune scope
    con.execute("""create table marts.fct_indicators (as_of date, indicator_code varchar, scope_level varchar,
        scope_code varchar, numerator bigint, denominator bigint, rate double, target double,
        meets_target boolean,
        source varchar, criterion varchar)""")
    for indicator in read_indicators(con):
        sql = units_sql([indicator], indicator.source)
        units = con.execute(sql, {"as_of": AS_OF}).df()
        con.register("units", units)
        for night, shift in ((AS_OF, 0), (PREVIOUS, 3)):
            con.execute(
                f"""
                insert into marts.fct_indicators
                with u as (select commune_code, "{indicator.code}" as passes from units),
                counts as (
                    select 'province' as scope_level, '01' as scope_code,
                        count(case when passes then 1 end) as numerator, count(passes) as denominator from u
                    union all
                    select 'commune', commune_code, count(case when passes then 1 end), count(passes)
                    from u where commune_code is not null group by commune_code
                ),
                shifted as (
                    select scope_level, scope_code, greatest(numerator - {shift}, 0) as numerator, denominator
                    from counts where denominator > 0 or scope_level = 'province'
                )
                select ?, '{indicator.code}', scope_level, scope_code, numerator, denominator,
                    case when denominator > 0 then 100.0 * numerator / denominator end,
                    {indicator.target},
                    case when denominator > 0 then 100.0 * numerator / denominator >= {indicator.target} end,
                    '{indicator.source}', {f"'{indicator.criterion}'" if indicator.criterion else "null"}
                from shifted
            """,
                [night],
            )
        con.unregister("units")
    con.close()
    return path


if __name__ == "__main__":  # pragma: no cover - a developer's helper
    import sys

    print(build_scratch_warehouse(Path(sys.argv[1])))
