"""The counting units the quality gates validate, read from the marts (and the staging views for the few
source columns an indicator needs), independently of the dbt model that computes `fct_indicators`.

One pandas frame per source: one row per record (citizens for `population`), the record's resolved current
commune, and one column per indicator of that source named by its `indicator_code`: True (in the numerator),
False (in the denominator only) or None (not in the denominator, e.g. a STOPPED beneficiary for
`social_account_payment`). Frames carry no key, name or ID: nothing personal ever reaches GX or its Data Docs.
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


def read_units(con, as_of: dt.date, indicators: list[Indicator] | None = None) -> dict[str, pd.DataFrame]:
    """One units frame per source for the night `as_of`."""
    indicators = indicators if indicators is not None else read_indicators(con)
    frames = {}
    for source in SOURCES:
        frame = con.execute(units_sql(indicators, source), {"as_of": as_of}).df()
        frames[source] = _as_objects(frame)
    return frames


# --- the invariant batches: one row per mart row, no key, only what the invariants look at ---------------

INVARIANT_SQL = {
    "fct_indicators": """
select
    indicators.indicator_code,
    indicators.scope_level,
    indicators.scope_code,
    indicators.numerator,
    indicators.denominator,
    indicators.rate,
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
""",
    "fct_reconciliation": """
select
    source,
    match_method,
    match_probability,
    count(*) over (partition by source, source_record_id) as rows_per_record,
    (personal_id is null) = (match_method = 'none') as link_agrees_with_method,
    not is_reconciled or personal_id is not null as reconciled_is_linked
from marts.fct_reconciliation
where as_of = $as_of
""",
    "fct_findings": """
select
    findings.source,
    findings.rule_code,
    findings.criterion,
    count(*) over (
        partition by findings.source, findings.source_record_id, findings.rule_code
    ) as rows_per_finding,
    coalesce(findings.criterion = rules.criterion, false) as criterion_is_catalogue_criterion,
    findings.source = 'population' or reconciliation.source_record_id is not null as record_is_reconciled_row
from marts.fct_findings as findings
left join reference.rules as rules on findings.rule_code = rules.rule_code
left join (
    select distinct source, source_record_id from marts.fct_reconciliation where as_of = $as_of
) as reconciliation
    on findings.source = reconciliation.source and findings.source_record_id = reconciliation.source_record_id
where findings.as_of = $as_of
""",
}


def read_invariant_batches(con, as_of: dt.date) -> dict[str, pd.DataFrame]:
    """One frame per mart for the invariant suites (night `as_of`)."""
    return {name: con.execute(sql, {"as_of": as_of}).df() for name, sql in INVARIANT_SQL.items()}


def read_catalogues(con) -> dict[str, list[str]]:
    """The rule and indicator codes of the reference catalogues."""
    return {
        "rule_codes": [r[0] for r in con.execute("select rule_code from reference.rules order by 1").fetchall()],
        "indicator_codes": [
            r[0] for r in con.execute("select indicator_code from reference.indicators order by 1").fetchall()
        ],
    }
