"""Benchmark a whole night (the nightly Dagster job) on a simulated scenario's SQLite sources.

    uv run --frozen python bench/night.py --sources /path/to/province --warehouse /tmp/bench-night.duckdb

Prints the duration of every step (ingestion per table — rows/s in its log line —, dbt staging, linkage, dbt reconciliation,
quality gates, report), the total, and the peak RSS of this process and of its children (dbt) — measured here.
"""

import argparse
import os
import resource
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/doisoat-bench-night.duckdb"))
    parser.add_argument("--as-of", default="2026-11-25")
    args = parser.parse_args()
    args.warehouse.unlink(missing_ok=True)
    for source in ("population", "vaccination", "social", "civil", "children"):
        os.environ[f"DOISOAT_{source.upper()}_URL"] = f"sqlite:///{(args.sources / f'{source}.sqlite').resolve()}"
    os.environ["DOISOAT_WAREHOUSE"] = str(args.warehouse.resolve())
    os.environ.setdefault("DAGSTER_HOME", str(args.warehouse.parent / "bench-dagster-home"))

    import dagster as dg

    from orchestration.cli import run_night

    started = time.perf_counter()
    ok = run_night(args.as_of)
    total = time.perf_counter() - started
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        steps = instance.get_run_step_stats(run.run_id)
    print(f"night {args.as_of}: {'succeeded' if ok else 'FAILED'} in {total:,.1f} s")
    print(f"{'step':<44}{'seconds':>10}")
    for step in sorted(steps, key=lambda s: s.start_time or 0):
        if step.start_time and step.end_time:
            print(f"{step.step_key:<44}{step.end_time - step.start_time:>10.1f}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {own:,.0f} MiB, largest child (dbt) {children:,.0f} MiB")


if __name__ == "__main__":
    main()
