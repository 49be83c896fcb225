"""Build a warehouse up to the staging layer for a simulated scenario (ingest + `dbt build` of seeds/staging),
without Dagster, so that the linkage can be trained and benchmarked on its own.

    python bench/linkage_prepare.py --scenario demo --dir data/bench/demo
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 25)
SOURCES = ("population", "vaccination", "social", "civil", "children")


def prepare(scenario: str, directory: Path, seed: int = 7, simulate: bool = True) -> Path:
    """Simulate (unless present), ingest and build staging; return the warehouse path."""
    import duckdb

    from assets.ingest import ingest_table
    from expectations.contracts import CONTRACTS

    directory.mkdir(parents=True, exist_ok=True)
    urls = {s: f"sqlite:///{directory / f'{s}.sqlite'}" for s in SOURCES}
    if simulate and not (directory / "ground_truth.parquet").exists():
        from simulator import simulate as run_simulation

        started = time.perf_counter()
        run_simulation(scenario, seed=seed, as_of=AS_OF, urls=urls, truth_path=directory / "ground_truth.parquet")
        print(f"simulated {scenario} in {time.perf_counter() - started:.1f}s", flush=True)
    warehouse = directory / "warehouse.duckdb"
    started = time.perf_counter()
    con = duckdb.connect(str(warehouse))
    try:
        for contract in CONTRACTS:
            ingest_table(con, contract.source, urls[contract.source], contract, AS_OF)
    finally:
        con.close()
    print(f"ingested in {time.perf_counter() - started:.1f}s", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "DOISOAT_WAREHOUSE": str(warehouse), "DOISOAT_AS_OF": AS_OF.isoformat()}
    dbt = Path(sys.executable).parent / "dbt"
    target = directory / "dbt_target"
    common = [
        "--project-dir",
        str(ROOT / "dbt_project"),
        "--profiles-dir",
        str(ROOT / "dbt_project"),
        "--target-path",
        str(target),
        "--log-path",
        str(directory / "dbt_logs"),
    ]
    for args in (
        ["seed"],
        ["run", "--select", "path:models/staging", "--vars", json.dumps({"as_of": AS_OF.isoformat()})],
    ):
        done = subprocess.run([str(dbt), *args, *common], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if done.returncode:
            raise RuntimeError(f"dbt {args[0]} failed:\n{done.stdout[-3000:]}")
    print(f"dbt seeds + staging in {time.perf_counter() - started:.1f}s", flush=True)
    return warehouse


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="demo")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(prepare(args.scenario, args.dir, args.seed))
