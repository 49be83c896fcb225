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


def night_summary(
    warehouse: Path, as_of: dt.date, warned_checks: list[str] | None = None, report: Path | None = None
) -> list[str]:
    """The end-of-night summary: indicators below target, checks that warned, findings per criterion, changes."""
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
    if report is not None:
        lines.append(f"report: {report}" if report.exists() else "report: not built")
    return lines
