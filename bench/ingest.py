"""Benchmark the ingestion: every source table of a simulated scenario into a fresh DuckDB warehouse.

    uv run --frozen python bench/ingest.py --sources data/sources --warehouse /tmp/bench.duckdb
    uv run --frozen python bench/ingest.py --sources data/sources --incremental --changed 0.01

Prints per-table rows, seconds and rows/s, the total, and the process's peak RSS (measured, this machine).
`--incremental` copies the sources, runs a full night 1, changes about `--changed` of each table's rows (an update
with a new update value where the table has an update column, a changed value elsewhere, and one row in a
thousand deleted), then runs night 2 incrementally and, on a copy of the warehouse, as a full refresh; then
reads every raw table of the night as a view and as a table (what dbt staging does first).
"""

import argparse
import datetime as dt
import resource
import shutil
import sqlite3
import time
from pathlib import Path

import duckdb

from assets.history import make_raw
from assets.ingest import ingest_table
from assets.night import ensure_status_table
from expectations.contracts import CONTRACTS


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _night(con, sources: Path, as_of: dt.date, **kwargs) -> tuple[float, float, dict]:
    """Ingest every table for `as_of`; wall and CPU seconds, and the stats per table."""
    started, cpu = time.perf_counter(), _cpu()
    stats = {
        c.raw_name: ingest_table(con, c.source, f"sqlite:///{sources / f'{c.source}.sqlite'}", c, as_of, **kwargs)
        for c in CONTRACTS
    }
    return time.perf_counter() - started, _cpu() - cpu, stats


def _change(sources: Path, share: float, when: str) -> int:
    """Change about `share` of every table's rows and delete one in a thousand (SQL on the SQLite sources)."""
    every = max(1, round(1 / share))
    changed = 0
    for contract in CONTRACTS:
        with sqlite3.connect(sources / f"{contract.source}.sqlite") as con:
            if contract.update_column:
                sets = f"\"{contract.update_column}\" = '{when}'"
            else:
                column = [n for n, t in contract.columns if t == "VARCHAR" and n != contract.key][-1]
                sets = f"\"{column}\" = coalesce(\"{column}\", '') || '.'"
            changed += con.execute(f'update "{contract.table}" set {sets} where rowid % {every} = 0').rowcount
            changed += con.execute(f'delete from "{contract.table}" where rowid % 1000 = 1').rowcount
    return changed


def _read_raw(con) -> float:
    """Seconds to read every raw table of the night whole (a CTAS of each, as a dbt table model would)."""
    started = time.perf_counter()
    for contract in CONTRACTS:
        con.execute(f"create or replace temp table _r as select * from raw.{contract.raw_name}")
    con.execute("drop table if exists _r")
    return time.perf_counter() - started


def incremental(sources: Path, work: Path, share: float, as_of: dt.date) -> None:
    """Night 1 full, about `share` of the rows changed, night 2 incremental and as a full refresh."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    copy = work / "sources"
    shutil.copytree(sources, copy, ignore=shutil.ignore_patterns("*.parquet", "*.json"))
    night2 = as_of + dt.timedelta(days=1)
    con = duckdb.connect(str(work / "w.duckdb"))
    wall1, cpu1, stats1 = _night(con, copy, as_of)
    ensure_status_table(con)
    con.execute("insert into meta.night_status (as_of, run_id, status) values (?, 'bench', 'complete')", [as_of])
    con.close()
    shutil.copy(work / "w.duckdb", work / "full.duckdb")
    changed = _change(copy, share, f"{as_of.isoformat()} 12:00:00")
    con = duckdb.connect(str(work / "w.duckdb"))
    wall2, cpu2, stats2 = _night(con, copy, night2)
    view_read = _read_raw(con)
    make_started = time.perf_counter()
    for contract in CONTRACTS:
        make_raw(con, contract, night2, as_table=True)
    make_seconds = time.perf_counter() - make_started
    table_read = _read_raw(con)
    con.close()
    con = duckdb.connect(str(work / "full.duckdb"))
    wall3, cpu3, _ = _night(con, copy, night2, full_refresh=True)
    con.close()
    total = sum(s.rows_total for s in stats2.values())
    print(f"source rows: {sum(s.rows_read for s in stats1.values()):,}; changed or deleted: {changed:,}")
    print(f"{'table':<34}{'mode':>12}{'read':>10}{'ins':>6}{'upd':>7}{'del':>6}{'s (inc)':>9}{'s (full)':>9}")
    for name, s in stats2.items():
        print(
            f"{name:<34}{s.mode:>12}{s.rows_read:>10,}{s.rows_inserted:>6}{s.rows_updated:>7}{s.rows_deleted:>6}"
            f"{s.seconds:>9.2f}{stats1[name].seconds:>9.2f}"
        )
    print(f"night 1 full:          wall {wall1:6.2f} s, CPU {cpu1:6.2f} s")
    print(f"night 2 incremental:   wall {wall2:6.2f} s, CPU {cpu2:6.2f} s ({total:,} rows in the state)")
    print(f"night 2 full refresh:  wall {wall3:6.2f} s, CPU {cpu3:6.2f} s")
    print(f"reading every raw table: as views {view_read:.2f} s, as tables {table_read:.2f} s")
    print(f"materialising the nine raw tables instead of views: {make_seconds:.2f} s")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=Path, default=Path("data/sources"))
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/doisoat-bench-ingest.duckdb"))
    parser.add_argument("--as-of", default="2026-11-25")
    parser.add_argument("--incremental", action="store_true", help="full night, changes, incremental night")
    parser.add_argument("--changed", type=float, default=0.01, help="share of rows changed between the nights")
    parser.add_argument("--keep", action="store_true", help="ingest into --warehouse as it is (a later night)")
    parser.add_argument("--tables", help="comma-separated raw names (default: all nine)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the run here (pstats)")
    args = parser.parse_args()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        try:
            _run(args)
        finally:
            profiler.disable()
            profiler.dump_stats(args.profile)
        return
    _run(args)


def _run(args) -> None:
    """One command of main()."""
    if args.incremental:
        incremental(args.sources, args.warehouse.with_suffix(".d"), args.changed, dt.date.fromisoformat(args.as_of))
        return
    if not args.keep:
        args.warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(args.warehouse))
    as_of = dt.date.fromisoformat(args.as_of)
    total_rows, started, cpu_started = 0, time.perf_counter(), _cpu()
    print(f"{'table':<34}{'mode':>12}{'rows':>12}{'quarantined':>13}{'seconds':>10}{'CPU s':>8}{'rows/s':>12}  reader")
    chosen = set(args.tables.split(",")) if args.tables else None
    for contract in CONTRACTS:
        if chosen and contract.raw_name not in chosen:
            continue
        url = f"sqlite:///{args.sources / f'{contract.source}.sqlite'}"
        cpu = _cpu()
        stats = ingest_table(con, contract.source, url, contract, as_of)
        total_rows += stats.rows_read
        print(
            f"{contract.raw_name:<34}{stats.mode:>12}{stats.rows_read:>12,}{stats.rows_quarantined:>13,}"
            f"{stats.seconds:>10.2f}{_cpu() - cpu:>8.2f}{stats.rows_per_second:>12,.0f}  {stats.reader}",
            flush=True,
        )
    seconds = time.perf_counter() - started
    print(f"CPU seconds (process, all threads): {_cpu() - cpu_started:.2f}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total':<34}{total_rows:>12,}{'':>13}{seconds:>10.2f}{total_rows / seconds:>12,.0f}")
    print(f"peak RSS: {peak_mib:,.0f} MiB")
    con.close()


if __name__ == "__main__":
    main()
