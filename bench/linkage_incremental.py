"""The incremental linkage at province: a night's linkage scoring only what changed, against a full rescoring.

    # once: copies of the lead's warehouse after night 1 and of the sources advanced to night 2
    python bench/linkage_incremental.py link --warehouse W --as-of 2026-11-21 --run-id from-status
    python bench/linkage_incremental.py staging --warehouse W --sources S2 --as-of 2026-11-22
    python bench/linkage_incremental.py link --warehouse W --as-of 2026-11-22 --run-id bench-inc
    python bench/linkage_incremental.py link --warehouse W --as-of 2026-11-22 --run-id bench-full --rescore-all

`link` runs `link_night` as the Dagster asset does (review workbooks, charts, 5,000-record hold-out) with a run
id, so the linkage state is read and kept; `--run-id from-status` adopts the night's committed run
(meta.night_status), which marks the state it keeps committed (a warehouse built by code without the state).
`staging` runs the night's steps upstream of the linkage (ingestion, dbt seeds and staging) through Dagster.
Each `link` prints one JSON line: wall and CPU seconds (user + system of this process, DuckDB's threads
included), 1-minute load before/after, peak RSS, phases, change counts, and the md5 of the sorted rows of both
output tables (every column). Run each step in its own process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCES = ("population", "vaccination", "social", "civil", "children")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def output_hashes(con) -> dict[str, list]:
    """Rows and md5 of the sorted rows (every column) of both output tables."""
    out = {}
    for table in ("intermediate.linkage_probabilistic", "intermediate.linkage_review"):
        out[table] = list(
            con.execute(
                "select count(*), md5(coalesce(string_agg(cast(t as varchar), chr(10)"
                f" order by cast(t as varchar)), '')) from {table} as t"
            ).fetchone()
        )
    return out


def link(args) -> None:
    import duckdb

    from assets.linkage_model.predict import link_night

    con = duckdb.connect(str(args.warehouse))
    run_id = args.run_id
    if run_id == "from-status":
        row = con.execute("select run_id, status from meta.night_status where as_of = ?", [args.as_of]).fetchone()
        assert row and row[1] in ("published", "complete"), f"night {args.as_of} is not committed: {row}"
        run_id = row[0]
    out = args.warehouse.parent / "out" / args.label
    load_before = os.getloadavg()
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = link_night(
        con,
        args.as_of,
        holdout_size=args.holdout,
        reports_dir=out / "reports",
        review_dir=out / "review",
        run_id=run_id,
        refresh_parameters=args.refresh_parameters,
        rescore_all=args.rescore_all,
    )
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    load_after = os.getloadavg()
    report = {
        "label": args.label,
        "as_of": args.as_of.isoformat(),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "load_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "phases_s": {k: round(v, 1) for k, v in result.seconds.items()},
        "incremental": result.incremental,
        "base_as_of": result.base_as_of,
        "parameters": result.parameters_reason,
        "parameters_refreshed": result.parameters_refreshed,
        "master_rows": result.master_rows,
        "residue_rows": result.residue_rows,
        "records_changed": result.records_changed,
        "master_changed": result.master_changed,
        "pairs_kept": result.pairs_kept,
        "pairs_scored": result.pairs_scored,
        "candidate_pairs": result.candidate_pairs,
        "links_made": result.links_made,
        "review_queue_pairs": result.review_queue_pairs,
        "outputs": output_hashes(con),
    }
    if args.save_links:
        con.execute(
            f"create or replace table main.bench_links_{args.save_links} as "
            "select * from intermediate.linkage_probabilistic"
        )
    con.close()
    line = json.dumps(report)
    print(line)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def staging(args) -> None:
    import dagster as dg

    from orchestration.cli import run_night

    for source in SOURCES:
        os.environ[f"DOISOAT_{source.upper()}_URL"] = f"sqlite:///{args.sources / f'{source}.sqlite'}"
    os.environ["DOISOAT_WAREHOUSE"] = str(args.warehouse)
    home = args.warehouse.parent / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    linkage = dg.AssetKey(["intermediate", "linkage_probabilistic"])
    selection = dg.AssetSelection.assets(linkage).upstream(include_self=False)
    wall, cpu = time.perf_counter(), cpu_seconds()
    ok = run_night(args.as_of.isoformat(), selection)
    print(json.dumps({"step": "staging", "ok": ok, "wall_s": round(time.perf_counter() - wall, 1),
                      "cpu_s_this_process": round(cpu_seconds() - cpu, 1)}))  # fmt: skip
    assert ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("link", "staging"))
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--sources", type=Path, help="staging: the folder of the five SQLite sources")
    parser.add_argument("--run-id", default=None, help="link: the run id ('from-status': the night's committed run)")
    parser.add_argument("--rescore-all", action="store_true")
    parser.add_argument("--refresh-parameters", action="store_true")
    parser.add_argument("--holdout", type=int, default=5000)
    parser.add_argument("--label", default="run")
    parser.add_argument("--save-links", default=None, help="keep the links as main.bench_links_<NAME>")
    parser.add_argument("--results", type=Path, default=None, help="append the JSON line to this file")
    args = parser.parse_args()
    link(args) if args.step == "link" else staging(args)


if __name__ == "__main__":
    main()
