"""Time (wall, CPU, peak RSS) and optionally profile the report or the GX gates of one night on a warehouse copy.

    uv run --frozen python -m bench.report_profile report /work/prov-x/warehouse.duckdb 2026-11-21 \
        --out /work/prov-x/reports [--gx-root /work/prov-x/gx] [--profile /tmp/report.prof]
    uv run --frozen python -m bench.report_profile gates /work/prov-x/warehouse.duckdb 2026-11-21 \
        --gx-root /work/prov-x/gx-bench [--profile /tmp/gates.prof]

CPU seconds are user + system of this process and its children (a report rendering communes in worker
processes counts them too); the load average is printed before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import resource
import time
from pathlib import Path


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _run(stage: str, warehouse: Path, as_of: dt.date, out: Path | None, gx_root: Path | None) -> object:
    if stage == "report":
        from assets.reporting.build import build

        return build(warehouse, as_of, out or warehouse.parent / "reports", gx_root=gx_root, keep_nights=0)
    import duckdb

    from expectations.gx.gates import run_gates

    with duckdb.connect(str(warehouse), read_only=True) as con:
        results = run_gates(con, as_of, gx_root or warehouse.parent / "gx")
    below = sum(1 for g in results.indicators.values() if g.rate is not None and not g.success)
    broken = [m for m, i in results.invariants.items() if not i.success]
    return f"{len(results.indicators)} indicators, {below} below target, broken invariants: {broken}"


def main() -> None:
    """Parse the arguments, run the stage once, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["report", "gates"])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("as_of", type=dt.date.fromisoformat)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--gx-root", type=Path, default=None)
    parser.add_argument("--memory-limit", default=None, help="override the report's DuckDB memory limit")
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile file and print its top")
    args = parser.parse_args()
    if args.memory_limit:
        import assets.reporting.data as data

        data.MEMORY_LIMIT = args.memory_limit
    print("load before:", os.getloadavg())
    profiler = cProfile.Profile() if args.profile else None
    wall0, cpu0 = time.perf_counter(), _cpu()
    if profiler:
        profiler.enable()
    result = _run(args.stage, args.warehouse, args.as_of, args.out, args.gx_root)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    print(result)
    print(f"{args.stage}: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {_peak_mib():.0f} MiB")
    print("load after:", os.getloadavg())
    if profiler:
        profiler.dump_stats(args.profile)
        pstats.Stats(str(args.profile)).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
