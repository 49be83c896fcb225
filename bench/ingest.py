"""Benchmark the ingestion: every source table of a simulated scenario into a fresh DuckDB warehouse.

    uv run --frozen python bench/ingest.py --sources data/sources --warehouse /tmp/bench.duckdb

Prints per-table rows, seconds and rows/s, the total, and the process's peak RSS (measured, this machine).
"""

import argparse
import datetime as dt
import resource
import time
from pathlib import Path

import duckdb

from assets.ingest import ingest_table
from expectations.contracts import CONTRACTS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=Path, default=Path("data/sources"))
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/doisoat-bench-ingest.duckdb"))
    parser.add_argument("--as-of", default="2026-11-25")
    args = parser.parse_args()
    args.warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(args.warehouse))
    as_of = dt.date.fromisoformat(args.as_of)
    total_rows, started = 0, time.perf_counter()
    print(f"{'table':<34}{'rows':>12}{'quarantined':>13}{'seconds':>10}{'rows/s':>12}  reader")
    for contract in CONTRACTS:
        url = f"sqlite:///{args.sources / f'{contract.source}.sqlite'}"
        stats = ingest_table(con, contract.source, url, contract, as_of)
        total_rows += stats.rows_read
        print(
            f"{contract.raw_name:<34}{stats.rows_read:>12,}{stats.rows_quarantined:>13,}{stats.seconds:>10.2f}"
            f"{stats.rows_per_second:>12,.0f}  {stats.reader}"
        )
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total':<34}{total_rows:>12,}{'':>13}{seconds:>10.2f}{total_rows / seconds:>12,.0f}")
    print(f"peak RSS: {peak_mib:,.0f} MiB")
    con.close()


if __name__ == "__main__":
    main()
