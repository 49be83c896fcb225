"""How many nights of record-level outputs a warehouse keeps, and the clean-up after each night.

A province night adds about 120 MB of record-level rows to the warehouse (`fct_reconciliation`, `fct_findings`,
`fct_finding_changes`, `fct_enrichment`, `fct_review_queue`: one row per record, finding or queued pair; measured
on the province's first two nights) and about 70 MB of write-back files (unmasked IDs). Kept for ever, a year of
nights would be about 70 GB, and a year of personal IDs in plain files. So, after a night is published, the
record-level rows and the write-back folders of nights older than the newest `DOISOAT_KEEP_NIGHTS` (default 30,
as the reports; 0 keeps every night) are removed. `fct_indicators` keeps every night: the report's trends read
it, and it is small (2,800 rows a night).

Removed nights are listed in `meta.pruned_nights`, so that the report of such a night is refused with one line
instead of being built from empty marts; rerunning the night rebuilds its rows and takes it off the list. The
night being published is always kept, even when it is older than the newest `keep` (a rerun of an old night).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

from assets.resources import table_exists

KEEP_NIGHTS_ENV = "DOISOAT_KEEP_NIGHTS"
KEEP_NIGHTS_DEFAULT = 30
RECORD_MARTS = ("fct_reconciliation", "fct_findings", "fct_finding_changes", "fct_enrichment", "fct_review_queue")
PRUNED_DDL = (
    "create schema if not exists meta",
    "create table if not exists meta.pruned_nights (as_of date primary key, pruned_at timestamp, kept_nights integer)",
)


def keep_nights_setting(variable: str = KEEP_NIGHTS_ENV, default: int = KEEP_NIGHTS_DEFAULT, environ=None) -> int:
    """A whole number of nights from `variable` (unset or empty: `default`; 0 keeps every night)."""
    value = (os.environ if environ is None else environ).get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ValueError(f"{variable} must be a whole number of nights (0 keeps all), got {value!r}")
    return int(value)


_NIGHT_DIR = re.compile(r"^(\d{4}-\d{2}-\d{2})(-unmasked)?$")


def remove_old_night_folders(out_dir: Path, keep: int, tonight: dt.date | None = None) -> list[Path]:
    """Remove the `<YYYY-MM-DD>[-unmasked]` folders of nights older than the newest `keep` (never `tonight`'s);
    other files and folders are left alone. Returns what went."""
    if keep <= 0 or not out_dir.exists():
        return []
    folders = [(m.group(1), p) for p in out_dir.iterdir() if p.is_dir() and (m := _NIGHT_DIR.match(p.name))]
    nights = sorted({night for night, _ in folders}, reverse=True)
    old = set(nights[keep:]) - ({tonight.isoformat()} if tonight else set())
    removed = [p for night, p in folders if night in old]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def _marts_present(con) -> set[str]:
    return {
        row[0] for row in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
    }


def prune_marts(con, tonight: dt.date, keep: int) -> dict[str, int]:
    """Delete the record-level marts' rows of nights older than the newest `keep` nights of `fct_indicators`
    (tonight always kept); list those nights in `meta.pruned_nights`. Returns the rows deleted per mart."""
    for statement in PRUNED_DDL:
        con.execute(statement)
    con.execute("delete from meta.pruned_nights where as_of = ?", [tonight])  # tonight's rows were just rebuilt
    present = _marts_present(con)
    marts = [mart for mart in RECORD_MARTS if mart in present]
    if keep <= 0 or not marts or "fct_indicators" not in present:
        return {}
    newest = [
        row[0]
        for row in con.execute(
            "select distinct as_of from marts.fct_indicators order by as_of desc limit ?", [keep]
        ).fetchall()
    ]
    kept = sorted({*newest, tonight})
    deleted: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        dropped: set[dt.date] = set()
        for mart in marts:
            nights = [
                row[0]
                for row in con.execute(
                    f"select distinct as_of from marts.{mart} where as_of not in (select unnest(?::date[]))", [kept]
                ).fetchall()
            ]
            if nights:
                count = con.execute(
                    f"delete from marts.{mart} where as_of in (select unnest(?::date[]))", [nights]
                ).fetchone()[0]
                deleted[mart] = int(count)
                dropped.update(nights)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for night in sorted(dropped):
            con.execute("insert or replace into meta.pruned_nights values (?, ?, ?)", [night, now, keep])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return deleted


def pruned_among(con, nights: list[dt.date]) -> set[dt.date]:
    """The nights of `nights` whose record-level rows were removed (one query)."""
    if not nights or not table_exists(con, "meta", "pruned_nights"):
        return set()
    found = con.execute("select as_of from meta.pruned_nights where list_contains(?, as_of)", [nights]).fetchall()
    return {row[0] for row in found}


def pruned_night(con, as_of: dt.date) -> tuple[dt.datetime, int] | None:
    """(when, keep setting) if the night's record-level rows were removed, else None."""
    if not table_exists(con, "meta", "pruned_nights"):  # nothing was ever removed
        return None
    row = con.execute("select pruned_at, kept_nights from meta.pruned_nights where as_of = ?", [as_of]).fetchone()
    return (row[0], row[1]) if row else None
