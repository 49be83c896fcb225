"""Benchmark the probabilistic linkage: wall time per phase and peak memory, plus precision/recall.

    python bench/linkage_prepare.py --scenario province --dir data/bench/province   # once: sources + staging
    python bench/linkage_bench.py --dir data/bench/province [--train] \
        [--out bench/results/linkage_province.md]

Runs the nightly step (`link_night`, the committed model) in this process against the prepared warehouse;
peak memory is this process's peak resident set (DuckDB runs in-process), sampled with psutil too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 25)


class PeakRss:
    """Sample this process's RSS every 0.2 s (ru_maxrss covers the whole process lifetime)."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.2)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, required=True, help="a folder prepared by linkage_prepare.py")
    parser.add_argument("--train", action="store_true", help="also time train_model (to a scratch model file)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 4GB")
    parser.add_argument("--out", type=Path, default=None, help="append a results section to this markdown file")
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the committed one)")
    args = parser.parse_args()

    import duckdb

    from assets.linkage_model.model import train_model
    from assets.linkage_model.predict import link_night
    from bench.linkage_eval import evaluate

    warehouse = args.dir / "warehouse.duckdb"
    truth = (
        json.loads((args.dir / "ground_truth.json").read_text()) if (args.dir / "ground_truth.json").exists() else {}
    )
    lines = [
        f"## {truth.get('scenario', args.dir.name)} — {dt.datetime.now().isoformat(timespec='minutes')}",
        "",
    ]
    lines.append(
        f"machine: {platform.machine()}, {_cpus()} CPUs, {_ram_gb():.0f} GB RAM; "
        f"python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}; threads={args.threads or 'default'}, "
        f"memory_limit={args.memory_limit or 'default'}"
    )
    lines.append("")

    if args.train:
        with PeakRss() as peak:
            started = time.perf_counter()
            train_model(warehouse, out_path=args.dir / "bench_model.json")
            seconds = time.perf_counter() - started
        lines.append(f"* train_model (EM, u sampling): {seconds:.1f} s, peak RSS {peak.peak / 2**20:,.0f} MB")

    con = duckdb.connect(str(warehouse))
    if args.threads:
        con.execute(f"set threads = {args.threads}")
    if args.memory_limit:
        con.execute(f"set memory_limit = '{args.memory_limit}'")
    with PeakRss() as peak:
        started = time.perf_counter()
        reports = args.dir / "reports" / AS_OF.isoformat() / "linkage"
        result = link_night(con, AS_OF, model_path=args.model, reports_dir=reports)
        seconds = time.perf_counter() - started
    con.close()
    quality = evaluate(warehouse, args.dir / "ground_truth.parquet")
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    lines += [
        f"* master {result.master_rows:,} people; residue (sector records without a usable ID) {result.residue_rows:,}",
        f"* link_night: **{seconds:.1f} s** wall ({phases}); peak RSS **{peak.peak / 2**20:,.0f} MB** "
        f"(ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB)",
        f"* candidate pairs scored {result.candidate_pairs:,}; links made {result.links_made:,}; "
        f"review queue {result.review_queue_pairs:,} pairs ({result.review_queue_records:,} records)",
        f"* against ground truth: precision **{quality['precision']:.5f}** "
        f"({quality['correct_links']:,}/{quality['links']:,}), "
        f"recall **{quality['recall']:.5f}** "
        f"({quality['found']:,}/{quality['probabilistic_records']:,} link_class=probabilistic); "
        f"link_class=none linked: {quality['none_linked']}",
        f"* ID hold-out ({result.holdout.get('records', 0):,} ID-linked records scored without their ID): "
        "precision at accept "
        f"{result.holdout.get('precision_at_accept', float('nan')):.5f}, "
        f"recall at accept {result.holdout.get('recall_at_accept', float('nan')):.5f}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as f:
            f.write(text + "\n")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _ram_gb() -> float:
    import psutil

    return psutil.virtual_memory().total / 2**30


if __name__ == "__main__":
    main()
