"""What the report reads: the marts, the reference catalogues and (names) the staging views — nothing else."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from assets.reporting.masking import id_value_sql, mask_id_value_sql, mask_words_sql, name_words_sql
from assets.reporting.refs import reference_sql
from assets.resources import table_exists
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
    trend: pd.DataFrame  # fct_indicators, province scope, the kept nights up to as_of
    # counts of the findings, computed in the warehouse (the findings themselves are read per commune):
    rule_counts: pd.DataFrame  # rule_code, findings, records, communes (whole province)
    commune_counts: pd.DataFrame  # commune ('unknown' when none), findings, records_with_findings, top_rule
    commune_rule_counts: pd.DataFrame  # commune, rule_code, findings, records, communes (= 1)
    totals: dict  # findings, records
    quarantine: pd.DataFrame  # source, table_name, column_name, reason, rows: counts only, no values
    findings: Exceptions | None = None  # reads one commune's findings (while the connection is open)
    previous_as_of: dt.date | None = None  # the previous kept night (what the changes compare with)
    commune_trend: pd.DataFrame | None = None  # fct_indicators, commune scope, the kept nights up to as_of
    # fct_finding_changes counted: commune ('unknown' / 'outside' buckets as the findings), rule_code, status, n
    changes: pd.DataFrame | None = None
    stale: pd.DataFrame | None = None  # source, state_as_of, error: sources whose night state is stale
    nights: list[dt.date] = field(default_factory=list)  # the kept nights the trends show, oldest first


def _df(con, sql: str, params=None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def kept_nights(con, as_of: dt.date) -> list[dt.date]:
    """The nights up to `as_of` in the marts, skipping those `meta.night_status` says are unfinished (failed or
    running: their marts may be partial), as `fct_finding_changes` does; `as_of` itself is always kept."""
    status = (
        " and (as_of = $as_of or as_of not in (select as_of from meta.night_status"
        " where status not in ('published', 'complete')))"
        if table_exists(con, "meta", "night_status")
        else ""
    )
    return [
        r[0]
        for r in con.execute(
            f"select distinct as_of from marts.fct_indicators where as_of <= $as_of{status} order by as_of",
            {"as_of": as_of},
        ).fetchall()
    ]


TREND_NIGHTS = 30  # nights a trend shows at most (the reports kept by default)


UNKNOWN = "unknown"  # the bucket of findings with no commune
OUTSIDE = "outside"  # the bucket of findings resolved to a commune of another province


def _bucket_sql(column: str) -> str:
    """The commune a finding is listed under: its code, or the `unknown` / `outside` bucket."""
    return f"""case
        when {column} is null then '{UNKNOWN}'
        when {column} not in (select commune_code from reference.admin_communes where province_code = $province)
            then '{OUTSIDE}'
        else {column}
    end"""


def changes_sql(has_changes: bool) -> str:
    """Tonight's status and first night of each finding (fct_finding_changes); NULLs before that mart exists."""
    if has_changes:
        return (
            "select source, source_record_id, rule_code, status, first_seen_as_of"
            " from marts.fct_finding_changes where as_of = $as_of"
        )
    return (
        "select null::varchar as source, null::varchar as source_record_id, null::varchar as rule_code,"
        " null::varchar as status, null::date as first_seen_as_of where false"
    )


def exceptions_sql(masked: bool, has_changes: bool = False) -> str:
    """The findings of the night with the record's name (staging), linked personal ID, link method and
    probability (reconciliation) and a stable reference (a keyed hash of source and key, `refs.py`).

    Masking happens here, in the query: a masked report never holds a full name or a whole ID in memory.
    `record_uid` (a hash of source and key) only counts distinct records; it is never written. Parameters:
    `$as_of`, `$province` (findings in communes of other provinces go to the `outside` bucket), `$ref_key`.
    """
    names = " union all ".join(
        f"select '{source}' as source, source_record_id, full_name from {view}" for source, view in PERSON_VIEWS.items()
    )
    # masked: the IDs' trimmed values are computed once (`worded`) and masked from there
    id_expr = (lambda column: mask_id_value_sql(f"{column}_value")) if masked else (lambda column: column)
    name_expr = (lambda column: mask_words_sql(column, "name_words")) if masked else (lambda column: column)
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
changes as ({changes_sql(has_changes)}),
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
        reconciliation.match_probability,
        changes.status,
        changes.first_seen_as_of
    from findings
    left join changes
        on findings.source = changes.source
        and findings.source_record_id = changes.source_record_id
        and findings.rule_code = changes.rule_code
    left join reconciliation
        on findings.source = reconciliation.source
        and findings.source_record_id = reconciliation.source_record_id
    left join names
        on findings.source = names.source and findings.source_record_id = names.source_record_id
    left join staging.stg_population__citizen as citizens
        on findings.source = 'population' and findings.source_record_id = citizens.personal_id
),
worded as (  -- the name's words and the IDs' trimmed values once per row: the masks refer to them eight and
    -- five times (DuckDB would redo each)
    select
        *,
        {name_words_sql("full_name")} as name_words,
        {id_value_sql("source_record_id")} as source_record_id_value,
        {id_value_sql("personal_id")} as personal_id_value
    from joined
)
select
    {_bucket_sql("commune_code")} as commune,
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
    round(match_probability, 4) as match_probability,
    status = 'new' as is_new,
    first_seen_as_of
from worded
order by commune, commune_code, source, source_record_id, rule_code
"""


MEMORY_LIMIT = "3GB"  # DuckDB's own memory while the report runs (it spills to a scratch folder beyond);
# 1 GB failed on the province's second night (the findings' joins could not pin their blocks)


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
        has_changes = table_exists(con, "marts", "fct_finding_changes")
        con.execute(
            f"create or replace temp table report_exceptions as {exceptions_sql(masked, has_changes)}",
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
        """The findings of one commune (`unknown`: no commune), in the report's order. The table is ordered by
        commune, so DuckDB's zone maps skip the other communes' row groups; read through Arrow (DuckDB's own
        pandas conversion built every text value as a Python object first: twice the CPU)."""
        # `con.sql` would spare a copy of the rows but refuses while an earlier result of `execute` is unread
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Arrow output on a DB-API result makes an extra copy", UserWarning)
            table = self.con.execute(
                "select source, reference, record_key, rule_code, criterion, commune_code, name, linked_id,"
                " match_method, match_probability, is_new, first_seen_as_of from report_exceptions"
                " where commune = ? order by rowid",
                [code],
            ).to_arrow_table()
        return table.to_pandas(date_as_object=False)


def quarantine_counts(con, as_of: dt.date) -> pd.DataFrame:
    """Rows quarantined at ingestion this night per source, table, column and reason: counts only (the rows
    themselves hold personal data and stay in `raw._quarantine`). Empty when the table does not exist."""
    if not table_exists(con, "raw", "_quarantine"):
        return pd.DataFrame(columns=["source", "table_name", "column_name", "reason", "rows"])
    return _df(
        con,
        "select source, table_name, coalesce(column_name, '') as column_name, reason, count(*) as rows"
        " from raw._quarantine where cast(_as_of as date) = ? group by all order by source, table_name, rows desc",
        [as_of],
    )


def change_counts(con, as_of: dt.date, province: str) -> pd.DataFrame:
    """fct_finding_changes of the night counted per commune (the findings' buckets), rule and status."""
    if not table_exists(con, "marts", "fct_finding_changes"):
        return pd.DataFrame(columns=["commune", "rule_code", "status", "n"])
    return _df(
        con,
        f"select {_bucket_sql('commune_code')} as commune, rule_code, status, count(*) as n"
        " from marts.fct_finding_changes where as_of = $as_of group by all order by all",
        {"as_of": as_of, "province": province},
    )


def stale_sources(con, as_of: dt.date) -> pd.DataFrame:
    """Sources whose state tonight is stale (`meta.extractions`; empty when that log does not exist): the
    oldest night whose extracted state a table of the source uses, and the one-line error."""
    if not table_exists(con, "meta", "extractions"):
        return pd.DataFrame(columns=["source", "state_as_of", "error"])
    return _df(
        con,
        "select source, min(state_as_of) as state_as_of, min(error) as error from meta.extractions"
        " where as_of = ? and status = 'stale' group by source order by source",
        [as_of],
    )


def _trend(con, scope_level: str, nights: list[dt.date]) -> pd.DataFrame:
    return _df(
        con,
        "select as_of, indicator_code, scope_code, rate, target, numerator, denominator from marts.fct_indicators"
        " where scope_level = ? and as_of in (select unnest(?::date[])) order by as_of",
        [scope_level, nights],
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
        nights = kept_nights(con, as_of)[-TREND_NIGHTS:]
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
            trend=_trend(con, "province", nights),
            commune_trend=_trend(con, "commune", nights),
            previous_as_of=previous,
            nights=nights,
            changes=change_counts(con, as_of, province_code),
            stale=stale_sources(con, as_of),
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
