"""What the console says at the end of a night, read from the warehouse (counts and codes only: no personal data)."""

import datetime as dt
from pathlib import Path

from assets.resources import table_exists

CRITERIA = {"dung": "đúng/correct", "du": "đủ/complete", "sach": "sạch/clean", "song": "sống/live"}


def _indicator_names(con) -> dict[str, str]:
    if not table_exists(con, "reference", "indicators"):
        return {}
    return dict(con.execute("select indicator_code, name_en from reference.indicators").fetchall())


def below_target(con, as_of: dt.date) -> tuple[list[tuple[str, float | None, float]], int]:
    """(indicators of the province below target as (code, rate, target), number of indicators) for a night."""
    rows = con.execute(
        "select indicator_code, rate, target, meets_target from marts.fct_indicators"
        " where as_of = ? and scope_level = 'province' order by rate nulls first, indicator_code",
        [as_of],
    ).fetchall()
    return [(code, rate, target) for code, rate, target, meets in rows if not meets], len(rows)


def quarantine_lines(con, as_of: dt.date) -> list[str]:
    """Tonight's quarantined source rows (a row once, however many of its values were bad), then the quarantine
    entries per source, table, column and disposition: counts only."""
    if not table_exists(con, "raw", "_quarantine"):
        return []
    row_of = "source || '.' || table_name || '#' || coalesce(source_record_id, record_key, row_json, '')"
    per_disposition = dict(
        con.execute(
            f"select disposition, count(distinct {row_of}) from raw._quarantine where _as_of = ? group by 1",
            [as_of],
        ).fetchall()
    )
    if not per_disposition:
        return ["rows quarantined tonight: 0"]
    rejected = per_disposition.get("rejected", 0)
    loaded = sum(per_disposition.values()) - rejected
    lines = [
        f"rows quarantined tonight: {loaded + rejected:,} ({loaded:,} loaded with their bad values emptied or"
        f" repaired, {rejected:,} rejected whole; the reasons are in raw._quarantine;"
        " rejected rows are ROW_REJECTED findings)"
    ]
    groups = con.execute(
        "select source, table_name, coalesce(column_name, '(row)'), disposition, count(*) from raw._quarantine"
        " where _as_of = ? group by all order by 5 desc, 1, 2, 3, 4",
        [as_of],
    ).fetchall()
    shown = groups[:8]
    lines += [
        f"  {f'{source}.{table}.{column}':<44} {disposition:<8} {n:>8,}"
        for source, table, column, disposition, n in shown
    ]
    if len(groups) > len(shown):
        lines.append(f"  … and {len(groups) - len(shown)} more (source, table, column) groups")
    return lines


def alert_lines(con, as_of: dt.date, warehouse: Path, most: int = 6) -> list[str]:
    """Tonight's alerts (kind, severity, the English half of the subject: counts and names of sources only)."""
    if not table_exists(con, "meta", "alerts"):
        return []
    rows = con.execute(
        "select kind, severity, subject from meta.alerts where as_of = ?"
        " order by case severity when 'error' then 0 when 'warning' then 1 else 2 end, kind",
        [as_of],
    ).fetchall()
    if not rows:
        return ["alerts: none"]
    from assets.alerts.config import load_config_or_default

    directory = load_config_or_default(warehouse=warehouse)[0].directory
    errors = sum(severity == "error" for _, severity, _ in rows)
    lines = [f"alerts: {len(rows)} ({errors} error{'s' if errors != 1 else ''}); {directory / f'{as_of}.log'}"]
    lines += [f"  {severity:<8} {kind}: {subject.split(' / ')[-1]}" for kind, severity, subject in rows[:most]]
    if len(rows) > most:
        lines.append(f"  … and {len(rows) - most} more")
    return lines


def night_summary(
    warehouse: Path, as_of: dt.date, warned_checks: list[str] | None = None, report: Path | None = None
) -> list[str]:
    """The end-of-night summary: indicators below target, checks that warned, findings per criterion, changes,
    quarantined rows, alerts."""
    import duckdb

    lines: list[str] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not table_exists(con, "marts", "fct_indicators"):
            return [f"no marts in {warehouse}"]
        below, total = below_target(con, as_of)
        names = _indicator_names(con)
        lines.append(f"indicators below target: {len(below)} of {total}")
        for code, rate, target in below:
            shown = "—" if rate is None else f"{rate:6.2f}%"
            lines.append(f"  {code:<28} {shown:>8} (target {target:g}%)  {names.get(code, '')}".rstrip())
        if warned_checks is not None:
            others = sorted(set(warned_checks) - {code for code, _, _ in below})
            besides = f" ({', '.join(others)} besides the indicators above)" if others else ""
            lines.append(f"quality checks that warned: {len(warned_checks)}{besides}")
        if table_exists(con, "marts", "fct_findings"):
            counts = dict(
                con.execute(
                    "select criterion, count(*) from marts.fct_findings where as_of = ? group by 1", [as_of]
                ).fetchall()
            )
            shown = ", ".join(f"{label} {counts.get(code, 0):,}" for code, label in CRITERIA.items())
            lines.append(f"findings per criterion: {shown} (total {sum(counts.values()):,})")
        if table_exists(con, "marts", "fct_finding_changes"):
            changes = dict(
                con.execute(
                    "select status, count(*) from marts.fct_finding_changes where as_of = ? group by 1", [as_of]
                ).fetchall()
            )
            if changes:
                lines.append(
                    "since the last night: "
                    + ", ".join(f"{status} {changes.get(status, 0):,}" for status in ("new", "fixed", "open", "gone"))
                )
        lines.extend(quarantine_lines(con, as_of))
        lines.extend(alert_lines(con, as_of, warehouse))
    if report is not None:
        lines.append(f"report: {report}" if report.exists() else "report: not built")
    return lines
