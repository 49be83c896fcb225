"""Time `simulate` for a scenario into a scratch directory, then `advance` it some nights: wall time and peak RSS.

Usage: python bench/simulate_bench.py SCENARIO [OUT_DIR] [ADVANCES]
  (ADVANCES > 0 with an OUT_DIR that already holds a simulated state skips `simulate`: pass SKIP as SCENARIO)
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from pathlib import Path

from simulator import simulate
from simulator.nights import advance

SOURCES = ("population", "vaccination", "social", "civil", "children")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    scenario = sys.argv[1] if len(sys.argv) > 1 else "demo"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else f"/tmp/doisoat_bench_{scenario}")
    nights = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    out.mkdir(parents=True, exist_ok=True)
    urls = {s: f"sqlite:///{out}/{s}.sqlite" for s in SOURCES}
    truth = out / "ground_truth.parquet"
    if scenario != "SKIP":
        t0 = time.perf_counter()
        counts = simulate(scenario, seed=0, as_of=dt.date(2025, 11, 20), urls=urls, truth_path=truth, progress=True)
        wall = time.perf_counter() - t0
        print(f"scenario={scenario} wall_s={wall:.1f} peak_rss_mb={_peak_mb():.0f} rows={sum(counts.values()):,}")
        for k, v in counts.items():
            print(f"  {k}: {v:,}")
    for _ in range(nights):
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        night = advance(urls, truth)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        changed = {k: sum(v.values()) for k, v in night["changes"].items()}
        rows = sum(night["row_counts"].values())
        print(
            f"advance to {night['as_of']}: wall_s={wall:.1f} cpu_s={cpu:.1f} peak_rss_mb={_peak_mb():.0f} "
            f"rows_changed={sum(changed.values()):,} of {rows:,} ({100 * sum(changed.values()) / rows:.2f} %)"
        )
        for k, v in night["changes"].items():
            print(f"  {k}: +{v['inserted']:,} ~{v['updated']:,} -{v['deleted']:,}")


if __name__ == "__main__":
    main()
