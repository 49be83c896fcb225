"""Time `simulate` for a scenario into a scratch directory: wall time and peak RSS.

Usage: python bench/simulate_bench.py SCENARIO [OUT_DIR]
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from pathlib import Path

from simulator import simulate


def main() -> None:
    scenario = sys.argv[1] if len(sys.argv) > 1 else "demo"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else f"/tmp/doisoat_bench_{scenario}")
    out.mkdir(parents=True, exist_ok=True)
    urls = {s: f"sqlite:///{out}/{s}.sqlite" for s in ("population", "vaccination", "social", "civil", "children")}
    t0 = time.perf_counter()
    counts = simulate(
        scenario, seed=0, as_of=dt.date(2025, 11, 20), urls=urls, truth_path=out / "ground_truth.parquet", progress=True
    )
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scenario={scenario} wall_s={wall:.1f} peak_rss_mb={peak:.0f} rows={sum(counts.values()):,}")
    for k, v in counts.items():
        print(f"  {k}: {v:,}")


if __name__ == "__main__":
    main()
