"""Profile the nightly linkage on a copy of a night's warehouse: wall and CPU seconds per phase, quality.

    python bench/linkage_profile.py --warehouse /work/prov-linkspeed/warehouse.duckdb --as-of 2026-11-21 \
        --truth /work/bench-prov/run/sources/ground_truth.parquet [--holdout 5000] [--label before]

Runs `link_night` as the Dagster asset does (review workbooks, charts, hold-out) in this process on the given
warehouse (its staging tables are the night's), then measures the links against the simulator's ground truth.
CPU seconds are this process's user + system time (DuckDB's threads included); say the load with them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def output_fingerprints(warehouse: Path) -> dict[str, dict]:
    """Rows and MD5 of the sorted rows of both outputs: the pairs alone, and with probabilities to 1e-9."""
    import duckdb

    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, extra in (
            ("intermediate.linkage_probabilistic", "link_basis"),
            ("intermediate.linkage_review", "candidate_rank"),
        ):
            keys = f"source || '|' || source_record_id || '|' || personal_id || '|' || {extra}"
            rows, pairs, scored = con.execute(
                f"""select count(*),
                    md5(string_agg({keys}, chr(10) order by {keys})),
                    md5(string_agg({keys} || '|' || round(match_probability, 9), chr(10) order by {keys}))
                    from {table}"""
            ).fetchone()
            out[table] = {"rows": rows, "md5_pairs": pairs, "md5_with_probability": scored}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--truth", type=Path, default=None)
    parser.add_argument("--holdout", type=int, default=None, help="hold-out size (default: link_night's own)")
    parser.add_argument("--label", default="run")
    parser.add_argument("--splink-log", action="store_true", help="Splink's own INFO log (phase timings)")
    args = parser.parse_args()

    import duckdb

    from assets.linkage_model.predict import link_night
    from bench.linkage_eval import evaluate

    if args.splink_log:
        logging.basicConfig(format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("splink").setLevel(logging.INFO)
    out = args.warehouse.parent / "out" / args.label
    kwargs = {"reports_dir": out / "reports", "review_dir": out / "review"}
    if args.holdout is not None:
        kwargs["holdout_size"] = args.holdout
    load_before = os.getloadavg()
    con = duckdb.connect(str(args.warehouse))
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = link_night(con, args.as_of, **kwargs)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    con.close()
    load_after = os.getloadavg()
    report = {
        "label": args.label,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "load_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "phases_s": {k: round(v, 1) for k, v in result.seconds.items()},
        "master_rows": result.master_rows,
        "residue_rows": result.residue_rows,
        "candidate_pairs": result.candidate_pairs,
        "links_made": result.links_made,
        "review_queue_pairs": result.review_queue_pairs,
        "review_queue_records": result.review_queue_records,
        "holdout": {k: v for k, v in result.holdout.items() if k != "curve"},
    }
    report["outputs"] = output_fingerprints(args.warehouse)
    if args.truth is not None:
        report["quality"] = evaluate(args.warehouse, args.truth)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
