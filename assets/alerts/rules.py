"""Alert rules: each reads DuckDB aggregates for one night (`as_of`) and turns the few rows found into alerts.

Every query aggregates in DuckDB; Python only formats the handful of rows a rule returns. A rule whose table is
not in the warehouse (a night before that table existed) finds nothing. Nothing here reads a name or an ID:
sources, tables, indicators, commune codes and counts only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assets.alerts.config import AlertConfig, freshness_variable
from assets.alerts.model import Alert, fmt_int, fmt_pp
from assets.night import USABLE
from assets.resources import table_exists
from assets.retention import pruned_among
from expectations.contracts import CATALOGUE, MASTER

# --- shared helpers --------------------------------------------------------------------------------------------


def committed_filter(con, column: str = "as_of") -> str:
    """SQL condition keeping nights whose marts are whole (no status row: trusted, as in assets/night.py)."""
    if not table_exists(con, "meta", "night_status"):
        return "true"
    usable = ", ".join(f"'{status}'" for status in USABLE)
    return (
        f"({column} not in (select as_of from meta.night_status)"
        f" or {column} in (select as_of from meta.night_status where status in ({usable})))"
    )


def previous_night(con, as_of: dt.date) -> dt.date | None:
    """The latest committed night before `as_of` in marts.fct_indicators."""
    if not table_exists(con, "marts", "fct_indicators"):
        return None
    row = con.execute(
        f"select max(as_of) from marts.fct_indicators where as_of < ? and {committed_filter(con)}", [as_of]
    ).fetchone()
    return row[0] if row else None


def source_label(source: str) -> tuple[str, str]:
    spec = CATALOGUE.get(source)
    return (spec.label_vi, spec.label_en) if spec else (source, source)


def indicator_labels(con) -> dict[str, tuple[str, str]]:
    """indicator_code -> (Vietnamese, English) name from the reference seed, when the warehouse has it."""
    if not table_exists(con, "reference", "indicators"):
        return {}
    return {
        code: (vi, en)
        for code, vi, en in con.execute("select indicator_code, name_vi, name_en from reference.indicators").fetchall()
    }


# --- unreachable source ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unreachable:
    source: str
    tables: int
    state_as_of: dt.date | None
    error: str | None


def unreachable_rows(con, as_of: dt.date) -> list[Unreachable]:
    """Sources with a table that could not be read tonight (`meta.extractions.status = 'stale'`)."""
    if not table_exists(con, "meta", "extractions"):
        return []
    rows = con.execute(
        """
        select source, count(*) as tables, min(state_as_of) as state_as_of,
               arg_min(error, table_name) filter (where error is not null) as error
        from meta.extractions where as_of = ? and status = 'stale'
        group by source order by source
        """,
        [as_of],
    ).fetchall()
    return [Unreachable(*row) for row in rows]


def unreachable_alerts(rows: Sequence[Unreachable], as_of: dt.date) -> list[Alert]:
    alerts = []
    for row in rows:
        vi, en = source_label(row.source)
        since = row.state_as_of.isoformat() if row.state_as_of else "không có / none"
        master_vi = " Đây là CSDL gốc: không đối soát được nguồn nào với dữ liệu mới." if row.source == MASTER else ""
        master_en = " It is the master: nothing can be reconciled against fresh data." if row.source == MASTER else ""
        alerts.append(
            Alert(
                kind="source_unreachable",
                severity="error",
                source=row.source,
                subject_vi=f"Nguồn {vi} ({row.source}) không truy cập được đêm {as_of}",
                subject_en=f"Source {en} ({row.source}) unreachable on night {as_of}",
                body_vi=(
                    f"Dùng trạng thái tốt gần nhất, ngày {since} ({row.tables} bảng).{master_vi}",
                    f"Lỗi: {row.error or 'không rõ'}",
                ),
                body_en=(
                    f"Its last good state, of {since}, is used ({row.tables} table(s)).{master_en}",
                    f"Error: {row.error or 'unknown'}",
                ),
                counts={"tables": row.tables},
            )
        )
    return alerts


# --- stale source (freshness) ----------------------------------------------------------------------------------


def night_reference(as_of: dt.date) -> dt.datetime:
    """The moment a night's freshness is measured from: 00:00 of its day, in the sources' local time."""
    return dt.datetime.combine(as_of, dt.time())


@dataclass(frozen=True)
class Freshness:
    source: str
    table_name: str
    newest_update: dt.datetime | None
    age_hours: float | None
    window_hours: float
    status: str | None

    @property
    def fresh(self) -> bool:
        return self.age_hours is not None and self.age_hours <= self.window_hours


def freshness_rows(con, as_of: dt.date, windows: Mapping[str, float]) -> list[Freshness]:
    """Per extracted table with an update column: its newest update tonight and its age at the night."""
    if not table_exists(con, "meta", "extractions"):
        return []
    rows = con.execute(
        """
        select source, table_name, newest_update,
               date_diff('second', newest_update, ?::timestamp) / 3600.0 as age_hours, status
        from meta.extractions where as_of = ? and newest_update is not null
        order by source, table_name
        """,
        [night_reference(as_of), as_of],
    ).fetchall()
    return [Freshness(s, t, n, a, windows.get(s, 48.0), st) for s, t, n, a, st in rows]


def stale_alerts(rows: Sequence[Freshness], as_of: dt.date) -> list[Alert]:
    """One alert per source with a table whose newest update is older than the source's window."""
    by_source: dict[str, list[Freshness]] = {}
    for row in rows:
        if not row.fresh:
            by_source.setdefault(row.source, []).append(row)
    alerts = []
    for source, stale in by_source.items():
        vi, en = source_label(source)
        window = stale[0].window_hours
        names = ", ".join(r.table_name for r in stale)
        tables = ", ".join(f"{r.table_name} ({r.newest_update:%Y-%m-%d %H:%M}, {r.age_hours:.0f} h)" for r in stale)
        alerts.append(
            Alert(
                kind="source_stale",
                severity="warning",
                source=source,
                subject_vi=f"Nguồn {vi} ({source}): {names} không cập nhật quá {window:g} giờ (đêm {as_of})",
                subject_en=f"Source {en} ({source}): {names} not changed for over {window:g} hours (night {as_of})",
                body_vi=(f"Cập nhật mới nhất: {tables}.", f"Ngưỡng: {freshness_variable(source)}={window:g}."),
                body_en=(f"Newest update: {tables}.", f"Window: {freshness_variable(source)}={window:g}."),
                counts={"tables": len(stale), "max_age_hours": round(max(r.age_hours or 0 for r in stale), 1)},
            )
        )
    return alerts


# --- indicator drop --------------------------------------------------------------------------------------------


def indicator_drops(
    con, as_of: dt.date, margin: float, min_denominator: int, min_records_lost: int = 0
) -> tuple[dt.date | None, list[tuple]]:
    """(previous night, rows (scope_level, scope_code, indicator_code, previous rate, rate, drop in pp)).

    A commune's drop counts when its denominator is at least `min_denominator` and the drop stands for at least
    `min_records_lost` records (tonight's denominator at the previous rate, less tonight's numerator): in a
    commune of 50 records one record is 2 pp, and such drops came every night at `demo` size (15 of 16).
    """
    previous = previous_night(con, as_of)
    if previous is None:
        return None, []
    rows = con.execute(
        """
        select c.scope_level, c.scope_code, c.indicator_code,
               p.rate::double as previous_rate, c.rate::double as rate, (p.rate - c.rate)::double as drop_pp
        from marts.fct_indicators c
        join marts.fct_indicators p
          on p.as_of = ? and p.indicator_code = c.indicator_code
         and p.scope_level = c.scope_level and p.scope_code = c.scope_code
        where c.as_of = ? and c.scope_level in ('province', 'commune')
          and (p.rate - c.rate) > ?
          and (c.scope_level = 'province'
               or (c.denominator >= ? and p.rate / 100 * c.denominator - c.numerator >= ? - 1e-9))
        order by c.scope_level desc, drop_pp desc, c.indicator_code, c.scope_code
        """,
        [previous, as_of, margin, min_denominator, min_records_lost],
    ).fetchall()
    return previous, rows


def indicator_drop_alerts(
    rows: Sequence[tuple],
    as_of: dt.date,
    previous: dt.date | None,
    margin: float,
    labels: Mapping[str, tuple[str, str]],
) -> list[Alert]:
    """One alert per province indicator that fell; one alert for all communes, with counts per indicator."""
    alerts = []
    communes: dict[str, list[tuple]] = {}
    for level, scope, code, before, now, drop in rows:
        vi, en = labels.get(code, (code, code))
        if level == "province":
            alerts.append(
                Alert(
                    kind="indicator_drop",
                    severity="warning",
                    subject_vi=f"Chỉ tiêu {code} giảm {fmt_pp(drop)} điểm % (đêm {as_of})",
                    subject_en=f"Indicator {code} fell by {fmt_pp(drop)} pp (night {as_of})",
                    body_vi=(
                        f"{vi}: {fmt_pp(before)} % ({previous}) → {fmt_pp(now)} % ({as_of}); ngưỡng {margin:g} điểm %.",
                    ),
                    body_en=(
                        f"{en}: {fmt_pp(before)} % ({previous}) → {fmt_pp(now)} % ({as_of}); margin {margin:g} pp.",
                    ),
                    counts={"drop_pp": round(drop, 4)},
                )
            )
        else:
            communes.setdefault(code, []).append((scope, drop))
    if communes:
        lines = []
        for code, hits in sorted(communes.items(), key=lambda item: (-len(item[1]), item[0])):
            worst_scope, worst = max(hits, key=lambda hit: hit[1])
            lines.append(
                (
                    f"{code}: {len(hits)} xã/phường; giảm nhiều nhất {fmt_pp(worst)} điểm % ({worst_scope})",
                    f"{code}: {len(hits)} commune(s); largest fall {fmt_pp(worst)} pp ({worst_scope})",
                )
            )
        total = len({scope for hits in communes.values() for scope, _ in hits})
        alerts.append(
            _communes_alert(
                "indicator_drop_communes",
                f"{total} xã/phường có chỉ tiêu giảm quá {margin:g} điểm % (đêm {as_of} so với {previous})",
                f"{total} commune(s) with an indicator down {margin:g}+ pp (night {as_of} vs {previous})",
                lines,
                {"communes": total, "drops": sum(len(h) for h in communes.values())},
            )
        )
    return alerts


def _communes_alert(
    kind: str, subject_vi: str, subject_en: str, lines: Sequence[tuple[str, str]], counts: dict, shown: int = 20
) -> Alert:
    """One warning for many communes: a (Vietnamese, English) line each, the first `shown`, then how many more."""
    body_vi = [vi for vi, _ in lines[:shown]]
    body_en = [en for _, en in lines[:shown]]
    if len(lines) > shown:
        body_vi.append(f"… và {len(lines) - shown} dòng khác")
        body_en.append(f"… and {len(lines) - shown} more line(s)")
    return Alert(
        kind=kind,
        severity="warning",
        subject_vi=subject_vi,
        subject_en=subject_en,
        body_vi=tuple(body_vi),
        body_en=tuple(body_en),
        counts=counts,
    )


# --- quarantine share jump -------------------------------------------------------------------------------------


def quarantine_jumps(con, as_of: dt.date, margin: float) -> tuple[dt.date | None, list[tuple]]:
    """(previous night, rows (source, table, previous share %, share %, quarantined rows, rows)) past the margin.

    A table's share is its rows quarantined that night (distinct rows of `raw._quarantine`) over the rows in its
    state (`meta.extractions.rows_total`).
    """
    if not (table_exists(con, "meta", "extractions") and table_exists(con, "raw", "_quarantine")):
        return None, []
    previous = con.execute(
        f"select max(as_of) from meta.extractions where as_of < ? and {committed_filter(con)}", [as_of]
    ).fetchone()[0]
    if previous is None:
        return None, []
    rows = con.execute(
        """
        with bad as (
            select _as_of as as_of, source, lower(table_name) as table_name,
                   count(distinct coalesce(source_record_id, record_key)) as rows_bad
            from raw._quarantine where _as_of in ($1, $2) group by all
        ),
        share as (
            select e.as_of, e.source, lower(e.table_name) as table_name, coalesce(b.rows_bad, 0) as rows_bad,
                   e.rows_total, 100.0 * coalesce(b.rows_bad, 0) / nullif(e.rows_total, 0) as share
            from meta.extractions e
            left join bad b on b.as_of = e.as_of and b.source = e.source and b.table_name = lower(e.table_name)
            where e.as_of in ($1, $2)
        )
        select c.source, c.table_name, p.share, c.share, c.rows_bad, c.rows_total
        from share c join share p on p.as_of = $2 and p.source = c.source and p.table_name = c.table_name
        where c.as_of = $1 and c.share - coalesce(p.share, 0) > $3
        order by c.share - coalesce(p.share, 0) desc
        """,
        [as_of, previous, margin],
    ).fetchall()
    return previous, rows


def quarantine_alerts(rows: Sequence[tuple], as_of: dt.date, previous: dt.date | None, margin: float) -> list[Alert]:
    alerts = []
    for source, table, before, now, bad, total in rows:
        vi, en = source_label(source)
        alerts.append(
            Alert(
                kind="quarantine_jump",
                severity="warning",
                source=source,
                subject_vi=f"Tỷ lệ cách ly của {source}.{table} tăng lên {fmt_pp(now)} % (đêm {as_of})",
                subject_en=f"Quarantine share of {source}.{table} rose to {fmt_pp(now)} % (night {as_of})",
                body_vi=(
                    f"{vi}: {fmt_pp(before)} % ({previous}) → {fmt_pp(now)} %"
                    f" ({fmt_int(bad)}/{fmt_int(total)} bản ghi); ngưỡng {margin:g} điểm %.",
                ),
                body_en=(
                    f"{en}: {fmt_pp(before)} % ({previous}) → {fmt_pp(now)} %"
                    f" ({fmt_int(bad)}/{fmt_int(total)} rows); margin {margin:g} pp.",
                ),
                counts={"rows_quarantined": int(bad), "rows_total": int(total or 0)},
            )
        )
    return alerts


# --- far outside the recent range ------------------------------------------------------------------------------


def _recent_nights(con, as_of: dt.date, count: int) -> list[dt.date]:
    rows = con.execute(
        f"select distinct as_of from marts.fct_indicators where as_of <= ? and {committed_filter(con)}"
        " order by as_of desc limit ?",
        [as_of, count],
    ).fetchall()
    return [row[0] for row in rows]


_OUTLIERS = """
with series as ({series}),
hist as (
    select key, median(value) as med, mad(value) as mad, count(*) as nights
    from series where as_of < $night group by key
),
cur as (select key, value from series where as_of = $night)
select cur.key, cur.value, hist.med, hist.mad, hist.nights
from cur join hist using (key)
where hist.nights >= $min_history
  and abs(cur.value - hist.med) > greatest($k * 1.4826 * hist.mad, $floor, $relative * abs(hist.med))
order by abs(cur.value - hist.med) desc, cur.key
"""

_INDICATOR_SERIES = """
select indicator_code as key, as_of, rate::double as value from marts.fct_indicators
where scope_level = 'province' and as_of in (select unnest($nights::date[]))
"""

_FINDING_SERIES = """
with nights as (select unnest($nights::date[]) as as_of),
counts as (
    select as_of, commune_code, count(*) as n from marts.fct_findings
    where as_of in (select as_of from nights) and commune_code is not null group by all
),
communes as (select distinct commune_code from counts)
select c.commune_code as key, n.as_of, coalesce(k.n, 0)::double as value
from nights n cross join communes c
left join counts k on k.as_of = n.as_of and k.commune_code = c.commune_code
"""


def outliers(con, as_of: dt.date, config: AlertConfig) -> tuple[int, list[tuple], list[tuple]]:
    """(nights held, indicator outliers, commune finding-count outliers): median ± k·MAD of the recent nights."""
    if not table_exists(con, "marts", "fct_indicators"):
        return 0, [], []
    nights = _recent_nights(con, as_of, config.anomaly_nights + 1)
    if as_of not in nights or len(nights) < config.anomaly_min_nights:
        return len(nights), [], []
    params = {"night": as_of, "nights": nights, "min_history": config.anomaly_min_nights - 1, "k": config.anomaly_k}
    indicators = con.execute(
        _OUTLIERS.format(series=_INDICATOR_SERIES), {**params, "floor": config.indicator_drop_pp, "relative": 0.0}
    ).fetchall()
    communes: list[tuple] = []
    # nights whose findings were removed (DOISOAT_KEEP_NIGHTS) would count as nights with no finding at all
    pruned = pruned_among(con, nights)
    with_findings = [night for night in nights if night not in pruned]
    if table_exists(con, "marts", "fct_findings") and len(with_findings) >= config.anomaly_min_nights:
        communes = con.execute(
            _OUTLIERS.format(series=_FINDING_SERIES),
            {
                **params,
                "nights": with_findings,
                "floor": float(config.anomaly_min_count),
                "relative": config.anomaly_min_change_pct / 100,
            },
        ).fetchall()
    return len(nights), indicators, communes


def outlier_alerts(
    indicators: Sequence[tuple], communes: Sequence[tuple], as_of: dt.date, nights: int, k: float
) -> list[Alert]:
    alerts = []
    for code, value, median, _mad, _n in indicators:
        way_vi, way_en = ("cao", "above") if value > median else ("thấp", "below")
        alerts.append(
            Alert(
                kind="indicator_anomaly",
                severity="warning",
                subject_vi=f"Chỉ tiêu {code} = {fmt_pp(value)} %, {way_vi} bất thường so với {nights - 1} đêm trước",
                subject_en=f"Indicator {code} = {fmt_pp(value)} %, far {way_en} its last {nights - 1} nights",
                body_vi=(f"Trung vị {fmt_pp(float(median))} %; ngưỡng trung vị ± {k:g}·MAD.",),
                body_en=(f"Median {fmt_pp(float(median))} %; range median ± {k:g}·MAD.",),
                counts={"rate": round(float(value), 4), "median": round(float(median), 4)},
            )
        )
    if communes:
        up = sum(1 for _, value, median, _, _ in communes if value > median)
        lines = [
            (
                f"{code}: {fmt_int(value)} phát hiện (trung vị {fmt_int(median)})",
                f"{code}: {fmt_int(value)} findings (median {fmt_int(median)})",
            )
            for code, value, median, _, _ in communes
        ]
        alerts.append(
            _communes_alert(
                "findings_anomaly",
                f"{len(communes)} xã/phường có số phát hiện bất thường đêm {as_of} ({up} tăng)",
                f"{len(communes)} commune(s) with finding counts far outside their range ({as_of}, {up} up)",
                lines,
                {"communes": len(communes), "up": up, "down": len(communes) - up},
            )
        )
    return alerts


# --- all rules of a night --------------------------------------------------------------------------------------


def evaluate(con, as_of: dt.date, config: AlertConfig) -> list[Alert]:
    """Every rule for the night, in order of severity (the failed-run alert is sent by `notify_failed_night`)."""
    alerts = unreachable_alerts(unreachable_rows(con, as_of), as_of)
    alerts += stale_alerts(freshness_rows(con, as_of, config.freshness_hours), as_of)
    previous, drops = indicator_drops(
        con, as_of, config.indicator_drop_pp, config.min_denominator, config.min_records_lost
    )
    alerts += indicator_drop_alerts(drops, as_of, previous, config.indicator_drop_pp, indicator_labels(con))
    previous, jumps = quarantine_jumps(con, as_of, config.quarantine_jump_pp)
    alerts += quarantine_alerts(jumps, as_of, previous, config.quarantine_jump_pp)
    nights, indicators, communes = outliers(con, as_of, config)
    alerts += outlier_alerts(indicators, communes, as_of, nights, config.anomaly_k)
    return alerts
