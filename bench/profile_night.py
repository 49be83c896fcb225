"""Profile a benchmarked night (bench/night.py): where dbt, the ingestion and the gates spend their time.

    uv run --frozen python bench/profile_night.py --night /tmp/doisoat-bench-night [--explain 4] [--ingest mui_tiem]

Reads `<night>/night.json` (Dagster step timings, dbt run_results.json per node), then, on that night's
warehouse and sources:
* `EXPLAIN ANALYZE` of the compiled SQL of the slowest dbt models (read-only; the plans go to
  `<night>/profile/explain_<model>.txt`, with DuckDB's total time);
* cProfile of the ingestion of one source table into a scratch DuckDB file (top functions by cumulative time);
* the quality gates alone, timed, on the night's warehouse (scratch GX folder).
Writes `<night>/profile/profile.json` and prints a summary.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import pstats
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def slowest_models(night: dict, top: int) -> list[dict]:
    """The slowest dbt models of the night (both invocations), with the run_results file they came from."""
    found = []
    for path, info in night.get("dbt", {}).items():
        for node in info["slowest_models"]:
            found.append({**node, "run_results": path})
    return sorted(found, key=lambda n: -n["seconds"])[:top]


def compiled_sql(run_results: str, node: str) -> str | None:
    """The compiled SELECT of a model from the invocation folder of its run_results.json."""
    folder = (ROOT / run_results).parent
    name = node.split(".")[-1]
    for path in folder.rglob(f"compiled/**/{name}.sql"):
        return path.read_text(encoding="utf-8")
    return None


def explain(warehouse: Path, sql: str) -> tuple[float, str]:
    """(seconds, plan text) of EXPLAIN ANALYZE of a query on the warehouse, read-only."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        started = time.perf_counter()
        rows = con.execute("explain analyze " + sql).fetchall()
        seconds = time.perf_counter() - started
    finally:
        con.close()
    return seconds, "\n".join(str(r[-1]) for r in rows)


def plan_total(plan: str) -> float | None:
    """DuckDB's `Total Time` of an analysed plan."""
    match = re.search(r"Total Time:\s*([0-9.]+)s", plan)
    return float(match.group(1)) if match else None


def profile_ingest(sources: Path, table: str, as_of: dt.date, scratch: Path) -> dict:
    """cProfile of ingesting one source table (by its raw name suffix) into a scratch DuckDB file."""
    import duckdb

    from assets.ingest import ingest_table
    from expectations.contracts import CONTRACTS

    contract = next(c for c in CONTRACTS if c.raw_name.endswith(table))
    url = f"sqlite:///{sources / f'{contract.source}.sqlite'}"
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    stats = ingest_table(con, contract.source, url, contract, as_of)
    profiler.disable()
    wall = time.perf_counter() - started
    con.close()
    scratch.unlink(missing_ok=True)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
    return {"table": contract.raw_name, "rows": stats.rows_read, "wall_s": round(wall, 2), "cprofile": text.getvalue()}


def time_gates(warehouse: Path, as_of: dt.date, scratch: Path) -> dict:
    """The quality gates alone on the night's warehouse (GX folder in scratch), timed in phases."""
    import shutil

    import duckdb

    from expectations.gx import units
    from expectations.gx.gates import run_gates

    shutil.rmtree(scratch, ignore_errors=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        started = time.perf_counter()
        indicators = units.read_indicators(con)
        recomputed = units.read_recomputed(con, as_of, indicators)
        t_recomputed = time.perf_counter() - started
        batches = units.read_invariant_batches(con, as_of, recomputed)
        t_batches = time.perf_counter() - started - t_recomputed
        started = time.perf_counter()
        results = run_gates(con, as_of, scratch)
        total = time.perf_counter() - started
    finally:
        con.close()
    return {
        "recompute_indicators_s": round(t_recomputed, 2),
        "invariant_batches_s": round(t_batches, 2),
        "batch_rows": {k: len(v) for k, v in batches.items()},
        "run_gates_total_s": round(total, 2),
        "indicators": len(results.indicators),
        "broken_invariants": [m for m, i in results.invariants.items() if not i.success],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--night", type=Path, default=Path("/tmp/doisoat-bench-night"))
    parser.add_argument("--sources", type=Path, default=None, help="default: the night folder")
    parser.add_argument("--explain", type=int, default=4, help="EXPLAIN ANALYZE of the N slowest models")
    parser.add_argument("--ingest", default="vaccination__mui_tiem", help="raw table name to profile, '' for none")
    parser.add_argument("--skip-gates", action="store_true")
    args = parser.parse_args()
    night = json.loads((args.night / "night.json").read_text(encoding="utf-8"))
    as_of = dt.date.fromisoformat(night["as_of"])
    warehouse = args.night / "warehouse.duckdb"
    out = args.night / "profile"
    out.mkdir(exist_ok=True)
    record: dict = {"explain": [], "as_of": night["as_of"]}
    for model in slowest_models(night, args.explain):
        sql = compiled_sql(model["run_results"], model["node"])
        if sql is None:
            continue
        seconds, plan = explain(warehouse, sql)
        name = model["node"].split(".")[-1]
        (out / f"explain_{name}.txt").write_text(plan, encoding="utf-8")
        record["explain"].append(
            {
                "model": name,
                "dbt_s": model["seconds"],
                "explain_wall_s": round(seconds, 2),
                "duckdb_total_s": plan_total(plan),
            }
        )
        print(f"explain {name}: dbt {model['seconds']} s, explain analyze {seconds:.1f} s")
    if not args.skip_gates:
        record["gates"] = time_gates(warehouse, as_of, out / "gx")
        print("gates:", record["gates"])
    if args.ingest:
        record["ingest"] = profile_ingest(args.sources or args.night, args.ingest, as_of, out / "ingest.duckdb")
        print(record["ingest"]["cprofile"][:6000])
    (out / "profile.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
