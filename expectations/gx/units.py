"""What the quality gates validate, computed in DuckDB and handed to GX as small aggregated frames.

The counting units of each source (one row per record, citizens for `population`; one column per indicator,
True in the numerator, False in the denominator only, NULL outside it, e.g. a STOPPED beneficiary for
`social_account_payment`) are defined in SQL over the marts and the staging views, independently of the dbt
model that computes `fct_indicators`. They are never read into Python: DuckDB counts them per indicator at
province scope and per commune (`read_recomputed`), and the invariant batches are per-group counts
(`read_invariant_batches`). Frames carry no key, name or ID: nothing personal ever reaches GX or its Data Docs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

SECTOR_SOURCES = ("vaccination", "social", "civil", "children")
SOURCES = ("population", *SECTOR_SOURCES)
CRITERIA = ("dung", "du", "sach", "song")

STAGING_VIEWS = {
    "vaccination": "staging.stg_vaccination__doi_tuong",
    "social": "staging.stg_social__beneficiary",
    "civil": "staging.stg_civil__ho_tich",
    "children": "staging.stg_children__tre_em",
    "population": "staging.stg_population__citizen",
}

# The named indicators of OUTPUTS.md: (source, SQL expression over `rec`, `stg`, `extra` giving True/False,
# or NULL when the unit is outside the denominator).
NAMED_INDICATORS: dict[str, tuple[str, str]] = {
    "children_reviewed": ("children", "rec.is_reconciled"),
    "children_with_id_code": (
        "children",
        "case when rec.is_reconciled then coalesce(stg.id_clean = rec.personal_id, false) end",
    ),
    "vaccination_clean": ("vaccination", "rec.is_reconciled"),
    "vaccine_passports_signed": ("vaccination", "extra.source_record_id is not null"),
    "civil_digitised": ("civil", "coalesce(stg.digitisation_status = 'DA_SO_HOA', false)"),
    "social_account_payment": (
        "social",
        "case when stg.status = 'ACTIVE' then coalesce(stg.pay_method = 'ACCOUNT'"
        " and nullif(trim(stg.bank_account), '') is not null, false) end",
    ),
    "social_reconciled": ("social", "rec.is_reconciled"),
    "population_clean": ("population", "fails.source_record_id is null"),
}

# A relation some sources join for one indicator (vaccination: the signed passports).
EXTRA_JOIN = {
    "vaccination": (
        "left join (select distinct source_record_id from staging.stg_vaccination__ho_chieu_vac_xin) as extra"
        " on rec.source_record_id = extra.source_record_id"
    ),
}


@dataclass(frozen=True)
class Indicator:
    code: str
    source: str
    criterion: str | None
    target: float
    name_vi: str
    name_en: str


def read_indicators(con) -> list[Indicator]:
    """The indicator catalogue (`reference.indicators`, seeded from seeds/indicators.csv)."""
    rows = con.execute(
        "select indicator_code, source, nullif(trim(criterion), ''), cast(target as double), name_vi, name_en"
        " from reference.indicators order by indicator_code"
    ).fetchall()
    return [Indicator(*row) for row in rows]


def _fails_columns() -> str:
    return ",\n".join(f"bool_or(criterion = '{c}') as fails_{c}" for c in CRITERIA)


def _criterion_columns(indicators: list[Indicator], source: str) -> list[str]:
    return [
        f"not coalesce(fails.fails_{i.criterion}, false) as {i.code}"
        for i in indicators
        if i.source == source and i.criterion
    ]


def _named_columns(indicators: list[Indicator], source: str) -> list[str]:
    codes = {i.code for i in indicators if i.source == source and not i.criterion}
    return [f"{expr} as {code}" for code, (src, expr) in NAMED_INDICATORS.items() if src == source and code in codes]


def units_sql(indicators: list[Indicator], source: str) -> str:
    """The SQL of one source's units frame (parameter $as_of)."""
    columns = _criterion_columns(indicators, source) + _named_columns(indicators, source)
    select_list = ",\n    ".join(["rec.commune_code", *columns])
    if source == "population":
        return f"""
with rec as (
    select personal_id as source_record_id, commune_code from {STAGING_VIEWS["population"]}
),
household_rules as (
    select rule_code from reference.rules where applies_to like '%household%'
),
fails as (
    select source_record_id, {_fails_columns()}
    from marts.fct_findings
    where as_of = $as_of and source = 'population'
        and rule_code not in (select rule_code from household_rules)
    group by source_record_id
)
select
    {select_list}
from rec
left join fails on rec.source_record_id = fails.source_record_id
"""
    return f"""
with rec as (
    select source_record_id, personal_id, commune_code, is_reconciled
    from marts.fct_reconciliation
    where as_of = $as_of and source = '{source}'
),
stg as (
    select * from {STAGING_VIEWS[source]}
),
fails as (
    select source_record_id, {_fails_columns()}
    from marts.fct_findings
    where as_of = $as_of and source = '{source}'
    group by source_record_id
)
select
    {select_list}
from rec
left join fails on rec.source_record_id = fails.source_record_id
left join stg on rec.source_record_id = stg.source_record_id
{EXTRA_JOIN.get(source, "")}
"""


def _as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as Python objects (True/False/None): what GX's pandas engine counts without surprises."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column].astype(object)
        out[column] = series.where(series.notna(), None)
    return out


# --- aggregated in DuckDB: what the gates validate is a few hundred rows, never the marts' millions ------------


def recomputed_sql(indicators: list[Indicator], source: str) -> str:
    """Numerator and denominator of each of a source's indicators, recomputed from the marts, at province scope
    (`is_province`) and per commune (parameter $as_of)."""
    codes = [i.code for i in indicators if i.source == source]
    aggregates = ",\n    ".join(
        f'count(*) filter (where "{code}") as "{code}__num", count("{code}") as "{code}__den"' for code in codes
    )
    return f"""
select
    grouping(commune_code) = 1 as is_province,
    commune_code,
    {aggregates}
from ({units_sql(indicators, source)}) as units
group by grouping sets ((), (commune_code))
"""


def read_recomputed(con, as_of: dt.date, indicators: list[Indicator]) -> pd.DataFrame:
    """indicator_code, scope_level, scope_code (NULL at province), numerator, denominator: recomputed in DuckDB
    from fct_reconciliation, fct_findings and staging, independently of the model behind fct_indicators."""
    frames = []
    for source in SOURCES:
        codes = [i.code for i in indicators if i.source == source]
        if not codes:
            continue
        wide = con.execute(recomputed_sql(indicators, source), {"as_of": as_of}).df()
        wide = wide[wide["is_province"] | wide["commune_code"].notna()]
        for code in codes:
            frames.append(
                pd.DataFrame(
                    {
                        "indicator_code": code,
                        "scope_level": wide["is_province"].map({True: "province", False: "commune"}).to_numpy(),
                        "scope_code": wide["commune_code"].where(~wide["is_province"], None).to_numpy(),
                        "numerator": wide[f"{code}__num"].astype("int64").to_numpy(),
                        "denominator": wide[f"{code}__den"].astype("int64").to_numpy(),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


INDICATORS_SQL = """
select
    indicators.indicator_code,
    indicators.scope_level,
    indicators.scope_code,
    indicators.numerator,
    indicators.denominator,
    indicators.rate,
    indicators.target,
    indicators.meets_target,
    case
        when indicators.denominator > 0
            then abs(indicators.rate - 100.0 * indicators.numerator / indicators.denominator) < 1e-9
        else indicators.rate is null
    end as rate_is_numerator_over_denominator,
    coalesce(indicators.meets_target = (indicators.rate >= indicators.target), indicators.rate is null)
        as meets_target_is_rate_vs_target,
    indicators.target = catalogue.target as target_is_catalogue_target
from marts.fct_indicators as indicators
left join reference.indicators as catalogue on indicators.indicator_code = catalogue.indicator_code
where indicators.as_of = $as_of
"""

# One row per group, counts of the rows that break an invariant: the marts are scanned once, in DuckDB.
INVARIANT_SQL = {
    "fct_reconciliation": """
with night as (
    select * from marts.fct_reconciliation where as_of = $as_of
),
repeated as (
    select source, source_record_id from night group by source, source_record_id having count(*) > 1
)
select
    night.source,
    night.match_method,
    count(*) as rows,
    count(repeated.source_record_id) as duplicate_rows,
    coalesce(min(night.match_probability), 0) as min_match_probability,
    coalesce(max(night.match_probability), 0) as max_match_probability,
    count(*) filter (where (night.personal_id is null) != (night.match_method = 'none'))
        as link_disagrees_with_method,
    count(*) filter (where night.is_reconciled and night.personal_id is null) as reconciled_without_link
from night
left join repeated
    on night.source = repeated.source and night.source_record_id = repeated.source_record_id
group by night.source, night.match_method
""",
    "fct_findings": """
with findings as (
    select * from marts.fct_findings where as_of = $as_of
),
records as (
    select distinct source, source_record_id from marts.fct_reconciliation where as_of = $as_of
)
select
    findings.source,
    findings.rule_code,
    findings.criterion,
    count(*) as rows,
    count(*) - count(distinct findings.source_record_id) as duplicate_rows,
    bool_and(coalesce(findings.criterion = rules.criterion, false)) as criterion_is_catalogue_criterion,
    count(*) filter (
        where findings.source != 'population' and records.source_record_id is null
    ) as rows_without_record
from findings
left join reference.rules as rules on findings.rule_code = rules.rule_code
left join records
    on findings.source = records.source and findings.source_record_id = records.source_record_id
group by findings.source, findings.rule_code, findings.criterion
""",
}


def indicator_batch(con, as_of: dt.date, recomputed: pd.DataFrame) -> pd.DataFrame:
    """Every fct_indicators row of the night beside its recomputation (`agrees_with_marts`); a recomputed scope
    with units but no mart row appears with NULL mart columns and agrees_with_marts False."""
    mart = con.execute(INDICATORS_SQL, {"as_of": as_of}).df()
    keys = ["indicator_code", "scope_level", "scope_code"]
    mart["_key_code"] = mart["scope_code"].where(mart["scope_level"] == "commune", None)
    kept = (recomputed["denominator"] > 0) | (recomputed["scope_level"] == "province")  # OUTPUTS.md: no empty commune
    again = recomputed[kept].rename(
        columns={
            "numerator": "recomputed_numerator",
            "denominator": "recomputed_denominator",
            "scope_code": "_key_code",
        }
    )
    merged = mart.merge(again, on=["indicator_code", "scope_level", "_key_code"], how="outer")
    agrees = (merged["numerator"] == merged["recomputed_numerator"]) & (
        merged["denominator"] == merged["recomputed_denominator"]
    )
    merged["agrees_with_marts"] = agrees.fillna(False).astype(bool)
    return merged[
        [
            *keys,
            "numerator",
            "denominator",
            "rate",
            "target",
            "meets_target",
            "rate_is_numerator_over_denominator",
            "meets_target_is_rate_vs_target",
            "target_is_catalogue_target",
            "agrees_with_marts",
            "recomputed_numerator",
            "recomputed_denominator",
        ]
    ]


def read_invariant_batches(con, as_of: dt.date, recomputed: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One small frame per mart for the invariant suites (night `as_of`)."""
    batches = {name: con.execute(sql, {"as_of": as_of}).df() for name, sql in INVARIANT_SQL.items()}
    batches["fct_indicators"] = indicator_batch(con, as_of, recomputed)
    return batches


def read_catalogues(con) -> dict[str, list[str]]:
    """The rule and indicator codes of the reference catalogues."""
    return {
        "rule_codes": [r[0] for r in con.execute("select rule_code from reference.rules order by 1").fetchall()],
        "indicator_codes": [
            r[0] for r in con.execute("select indicator_code from reference.indicators order by 1").fetchall()
        ],
    }
