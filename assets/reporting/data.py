"""What the report reads: the marts, the reference catalogues and (names) the staging views — nothing else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from assets.reporting.masking import mask_id_sql, mask_name_sql
from assets.reporting.refs import reference_sql
from expectations.contracts import CATALOGUE

SOURCES = tuple(CATALOGUE)
CRITERIA = ("dung", "du", "sach", "song")

SOURCE_LABELS = {spec.name: (spec.label_vi, spec.label_en) for spec in CATALOGUE.values()}
CRITERION_LABELS = {
    "dung": ("Đúng", "Correct"),
    "du": ("Đủ", "Complete"),
    "sach": ("Sạch", "Clean"),
    "song": ("Sống", "Live"),
}

PERSON_VIEWS = {
    "vaccination": "staging.stg_vaccination__doi_tuong",
    "social": "staging.stg_social__beneficiary",
    "civil": "staging.stg_civil__ho_tich",
    "children": "staging.stg_children__tre_em",
}


@dataclass
class ReportData:
    as_of: dt.date
    province_code: str
    province_name: str
    indicators: pd.DataFrame  # catalogue: indicator_code, name_vi, name_en, source, criterion, target
    rules: pd.DataFrame  # catalogue: rule_code, criterion, description_*, action_*
    communes: pd.DataFrame  # commune_code, commune_name, commune_type, province_code, province_name
    province_rows: pd.DataFrame  # fct_indicators, province scope, this night (+ previous_rate)
    commune_rows: pd.DataFrame  # fct_indicators, commune scope, this night
    trend: pd.DataFrame  # fct_indicators, province scope, every night up to as_of
    # counts of the findings, computed in the warehouse (the findings themselves are read per commune):
    rule_counts: pd.DataFrame  # rule_code, findings, records, communes (whole province)
    commune_counts: pd.DataFrame  # commune ('unknown' when none), findings, records_with_findings, top_rule
    commune_rule_counts: pd.DataFrame  # commune, rule_code, findings, records, communes (= 1)
    totals: dict  # findings, records
    quarantine: pd.DataFrame  # source, table_name, column_name, reason, rows: counts only, no values
    findings: Exceptions | None = None  # reads one commune's findings (while the connection is open)


def _df(con, sql: str, params=None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _nights(con, as_of: dt.date) -> list[dt.date]:
    return [
        r[0]
        for r in con.execute(
            "select distinct as_of from marts.fct_indicators where as_of <= ? order by as_of", [as_of]
        ).fetchall()
    ]


UNKNOWN = "unknown"  # the bucket of findings with no commune
OUTSIDE = "outside"  # the bucket of findings resolved to a commune of another province


def exceptions_sql(masked: bool) -> str:
    """The findings of the night with the record's name (staging), linked personal ID, link method and
    probability (reconciliation) and a stable reference (a keyed hash of source and key, `refs.py`).

    Masking happens here, in the query: a masked report never holds a full name or a whole ID in memory.
    `record_uid` (a hash of source and key) only counts distinct records; it is never written. Parameters:
    `$as_of`, `$province` (findings in communes of other provinces go to the `outside` bucket), `$ref_key`.
    """
    names = " union all ".join(
        f"select '{source}' as source, source_record_id, full_name from {view}" for source, view in PERSON_VIEWS.items()
    )
    id_expr = mask_id_sql if masked else (lambda column: column)
    name_expr = mask_name_sql if masked else (lambda column: column)
    return f"""
with household_rules as (
    select rule_code from reference.rules where applies_to like '%household%'
),
findings as (
    select
        *,
        source = 'population'
            and rule_code not in (select rule_code from household_rules) as key_is_personal_id
    from marts.fct_findings
    where as_of = $as_of
),
reconciliation as (
    select source, source_record_id, personal_id, match_method, match_probability
    from marts.fct_reconciliation where as_of = $as_of
),
province_communes as (
    select commune_code from reference.admin_communes where province_code = $province
),
names as ({names}),
joined as (
    select
        findings.source,
        findings.source_record_id,
        findings.key_is_personal_id,
        findings.rule_code,
        findings.criterion,
        findings.commune_code,
        case
            when findings.source = 'population' then citizens.full_name else names.full_name
        end as full_name,
        case
            when findings.key_is_personal_id then findings.source_record_id
            else reconciliation.personal_id
        end as personal_id,
        reconciliation.match_method,
        reconciliation.match_probability
    from findings
    left join reconciliation
        on findings.source = reconciliation.source
        and findings.source_record_id = reconciliation.source_record_id
    left join names
        on findings.source = names.source and findings.source_record_id = names.source_record_id
    left join staging.stg_population__citizen as citizens
        on findings.source = 'population' and findings.source_record_id = citizens.personal_id
)
select
    case
        when commune_code is null then '{UNKNOWN}'
        when commune_code not in (select commune_code from province_communes) then '{OUTSIDE}'
        else commune_code
    end as commune,
    source,
    hash(source, source_record_id) as record_uid,
    {reference_sql("source", "source_record_id", "$ref_key")} as reference,
    case when key_is_personal_id then {id_expr("source_record_id")} else source_record_id end as record_key,
    rule_code,
    criterion,
    commune_code,
    {name_expr("full_name")} as name,
    {id_expr("personal_id")} as linked_id,
    match_method,
    round(match_probability, 4) as match_probability
from joined
order by commune_code, source, source_record_id, rule_code
"""


MEMORY_LIMIT = "1GB"  # DuckDB's own memory while the report runs (it spills to a scratch folder beyond)


def connect(warehouse: Path, scratch: Path):
    """A read-only connection with bounded memory, spilling to `scratch` (not beside the warehouse)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    con.execute("set temp_directory = ?", [str(scratch)])
    con.execute("set preserve_insertion_order = true")
    con.execute("set enable_progress_bar = false")
    return con


class Exceptions:
    """The night's findings (masked in the query unless built unmasked), kept in a DuckDB temporary table
    ordered by commune and read back one commune at a time: a province never sits in pandas at once."""

    def __init__(self, con, as_of: dt.date, masked: bool, province: str, ref_key: str):
        self.con = con
        con.execute(
            f"create or replace temp table report_exceptions as {exceptions_sql(masked)}",
            {"as_of": as_of, "province": province, "ref_key": ref_key},
        )

    def counts(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
        """(rule counts, commune counts, commune × rule counts, totals) of the findings."""
        rule_counts = _df(
            self.con,
            "select rule_code, count(*) as findings, count(distinct record_uid) as records,"
            " count(distinct commune_code) as communes from report_exceptions group by rule_code",
        )
        commune_rule_counts = _df(
            self.con,
            "select commune, rule_code, count(*) as findings, count(distinct record_uid) as records,"
            " 1 as communes from report_exceptions group by commune, rule_code order by commune, rule_code",
        )
        commune_counts = _df(
            self.con,
            "select commune, count(*) as findings, count(distinct record_uid) as records_with_findings"
            " from report_exceptions group by commune",
        )
        top = (
            commune_rule_counts.sort_values(["commune", "findings", "rule_code"], ascending=[True, False, True])
            .drop_duplicates("commune")
            .set_index("commune")["rule_code"]
        )
        commune_counts["top_rule"] = commune_counts["commune"].map(top)
        findings, records = self.con.execute(
            "select count(*), count(distinct record_uid) from report_exceptions"
        ).fetchone()
        return rule_counts, commune_counts, commune_rule_counts, {"findings": findings, "records": records}

    def commune(self, code: str) -> pd.DataFrame:
        """The findings of one commune (`unknown`: no commune), in the report's order."""
        return _df(
            self.con,
            "select source, reference, record_key, rule_code, criterion, commune_code, name, linked_id,"
            " match_method, match_probability from report_exceptions where commune = ? order by rowid",
            [code],
        )


def quarantine_counts(con, as_of: dt.date) -> pd.DataFrame:
    """Rows quarantined at ingestion this night per source, table, column and reason: counts only (the rows
    themselves hold personal data and stay in `raw._quarantine`). Empty when the table does not exist."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = '_quarantine'"
    ).fetchone()[0]
    if not exists:
        return pd.DataFrame(columns=["source", "table_name", "column_name", "reason", "rows"])
    return _df(
        con,
        "select source, table_name, coalesce(column_name, '') as column_name, reason, count(*) as rows"
        " from raw._quarantine where cast(_as_of as date) = ? group by all order by source, table_name, rows desc",
        [as_of],
    )


def load(warehouse: Path, as_of: dt.date, masked: bool = True, con=None, ref_key: str = "") -> ReportData:
    """Read everything the report of night `as_of` shows but the findings' rows (read-only connection).

    With `con` (from `connect`), the findings go to its temporary table `report_exceptions` (see
    `Exceptions`) and the connection stays open for the caller; otherwise one is opened and closed here."""
    import duckdb

    own = con is None
    con = duckdb.connect(str(warehouse), read_only=True) if own else con
    try:
        province_rows = _df(
            con, "select * from marts.fct_indicators where as_of = ? and scope_level = 'province'", [as_of]
        )
        if province_rows.empty:
            raise ValueError(f"marts.fct_indicators has no rows for the night {as_of}: run the night first")
        nights = _nights(con, as_of)
        previous = nights[-2] if len(nights) > 1 else None
        if previous is not None:
            before = _df(
                con,
                "select indicator_code, rate as previous_rate from marts.fct_indicators"
                " where as_of = ? and scope_level = 'province'",
                [previous],
            )
            province_rows = province_rows.merge(before, on="indicator_code", how="left")
        else:
            province_rows["previous_rate"] = None
        province_code = str(province_rows["scope_code"].iloc[0])
        findings = Exceptions(con, as_of, masked, province_code, ref_key)
        rule_counts, commune_counts, commune_rule_counts, totals = findings.counts()
        name = con.execute(
            "select province_name from reference.admin_provinces where province_code = ?", [province_code]
        ).fetchone()
        return ReportData(
            as_of=as_of,
            province_code=province_code,
            province_name=name[0] if name else province_code,
            indicators=_df(
                con,
                "select indicator_code, name_vi, name_en, source, nullif(trim(criterion), '')"
                " as criterion, cast(target as double) as target from reference.indicators",
            ),
            rules=_df(
                con,
                "select rule_code, criterion, description_vi, description_en, action_vi, action_en"
                " from reference.rules",
            ),
            communes=_df(
                con,
                "select commune_code, commune_name, commune_type, province_code, province_name"
                " from reference.admin_communes",
            ),
            province_rows=province_rows,
            commune_rows=_df(
                con, "select * from marts.fct_indicators where as_of = ? and scope_level = 'commune'", [as_of]
            ),
            trend=_df(
                con,
                "select as_of, indicator_code, rate, target, numerator, denominator"
                " from marts.fct_indicators where scope_level = 'province' and as_of <= ?"
                " order by as_of",
                [as_of],
            ),
            rule_counts=rule_counts,
            commune_counts=commune_counts,
            commune_rule_counts=commune_rule_counts,
            totals=totals,
            quarantine=quarantine_counts(con, as_of),
            findings=None if own else findings,
        )
    finally:
        if own:
            con.close()
