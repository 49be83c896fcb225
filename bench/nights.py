"""Benchmark a full night, then an incremental night with about 1 % of the source rows changed.

    uv run --frozen python bench/nights.py --scenario demo --results bench/results/nights_demo.md
    uv run --frozen python bench/nights.py --scenario province --results bench/results/nights_province.md
    uv run --frozen python bench/nights.py --sources DIR ...   # start from kept simulated sources (a copy of DIR)

Night 1 is simulated and extracted in full; the simulator then advances the sources one night (`--rate`, default
1 % of rows: births, deaths, moves, corrections, new defects, inserts, updates, deletes) and night 2 extracts what
changed since night 1's watermarks. Per stage and in total, for each night: wall time, CPU time (this process and
its children), peak memory — measured as bench/night.py does (a psutil sampler cut at Dagster's step boundaries).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from night import STAGES, Sampler, _row, machine, measure_night, stage_table, uptime  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("population", "vaccination", "social", "civil", "children")


def run(args: argparse.Namespace) -> dict:
    out = args.out.resolve()
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    warehouse = out / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    for source in SOURCES:
        os.environ[f"DOISOAT_{source.upper()}_URL"] = f"sqlite:///{sources / f'{source}.sqlite'}"
    os.environ["DOISOAT_WAREHOUSE"] = str(warehouse)
    os.environ["DAGSTER_HOME"] = str(out / "dagster_home")
    (out / "dagster_home").mkdir(exist_ok=True)
    truth = sources / "ground_truth.parquet"
    if args.sources:  # a copy of already simulated sources: night 1 is the night their kept state ends at
        shutil.copytree(args.sources.resolve(), sources, dirs_exist_ok=True)
        state_file = next(sources.glob("*_state/state.json"))  # the simulator keeps `<truth>_state/` beside it
        truth = sources / f"{state_file.parent.name.removesuffix('_state')}.parquet"
        state = json.loads(state_file.read_text(encoding="utf-8"))
        args.as_of, args.scenario = state["as_of"], state["scenario"]
    first = dt.date.fromisoformat(args.as_of)
    second = first + dt.timedelta(days=1)
    record: dict = {
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario": args.scenario,
        "nights": [first.isoformat(), second.isoformat()],
        "machine": machine(),
        "uptime_before": uptime(),
    }
    from simulator import advance, simulate

    sampler = Sampler()
    sampler.start()
    start = time.time()
    if args.sources:
        counts = _row_counts(sources)
    else:
        counts = simulate(args.scenario, seed=0, as_of=first, urls=None, truth_path=truth)
    record["simulate"] = {**sampler.window(start, time.time()), "rows": sum(counts.values())}
    record["sources_copied_from"] = str(args.sources) if args.sources else None
    full = measure_night(first.isoformat(), sampler)
    start = time.time()
    # in a process of its own: the simulator's memory (13 GB at province size) would otherwise stay with this
    # process and count in the next night's peak
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        changes = pool.submit(advance, as_of=second, truth_path=truth, rate=args.rate, seed=0).result()
    record["advance"] = {**sampler.window(start, time.time()), "changes": changes.get("changes")}
    incremental = measure_night(second.isoformat(), sampler)
    sampler.stop()
    for label, measured in (("full", full), ("incremental", incremental)):
        record[label] = {
            "succeeded": measured["succeeded"],
            "stages": stage_table(measured["windows"], sampler),
            "night": sampler.window(*measured["window"]),
        }
    record["uptime_after"] = uptime()
    return record


def _row_counts(sources: Path) -> dict[str, int]:
    """Rows per table of the SQLite sources in `sources`."""
    import sqlite3

    counts = {}
    for path in sorted(sources.glob("*.sqlite")):
        with sqlite3.connect(path) as con:
            for (table,) in con.execute("select name from sqlite_master where type = 'table'").fetchall():
                counts[f"{path.stem}.{table}"] = con.execute(f'select count(*) from "{table}"').fetchone()[0]
    return counts


def markdown(record: dict) -> str:
    m = record["machine"]
    changed = sum(sum(int(n) for n in kinds.values()) for kinds in (record["advance"]["changes"] or {}).values())
    lines = [
        f"# A full night, then an incremental night — {record['scenario']}",
        "",
        f"Measured {record['started_utc']} by `uv run --frozen python bench/nights.py --scenario "
        f"{record['scenario']}`. Nights {record['nights'][0]} (simulated, extracted in full) and "
        f"{record['nights'][1]} (the simulator changed {changed:,} of {record['simulate']['rows']:,} source rows "
        f"overnight; extracted incrementally).",
        "",
        f"Machine: {m['cpu_model']}, {m['logical_cores']} logical cores, {m['ram_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}. Load averages before `{record['uptime_before']}`, after `{record['uptime_after']}`.",
        "",
    ]
    for label in ("full", "incremental"):
        night = record[label]
        lines += [
            f"## {label} night ({'succeeded' if night['succeeded'] else 'FAILED'})",
            "",
            "| stage | wall s | CPU s | peak RSS MiB | mean 1-min load |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [_row(stage, night["stages"][stage]) for stage in STAGES if stage in night["stages"]]
        lines += [_row("**night (Dagster job)**", night["night"]), ""]
    first = (
        f"sources copied from `{record['sources_copied_from']}` (no simulation)"
        if record.get("sources_copied_from")
        else f"{record['simulate']['wall_s']:.1f} s for night 1"
    )
    lines += [
        f"Simulation: {first}, {record['advance']['wall_s']:.1f} s to advance to night 2 (not part of either night).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="demo")
    parser.add_argument("--out", type=Path, default=Path("/tmp/doisoat-bench-nights"))
    parser.add_argument("--as-of", default="2026-11-20")
    parser.add_argument("--rate", type=float, default=0.01, help="share of rows the simulator changes overnight")
    parser.add_argument("--results", type=Path, default=None, help="also write the Markdown page here")
    parser.add_argument("--sources", type=Path, default=None, help="simulated sources to start from (copied)")
    args = parser.parse_args()
    os.chdir(ROOT)
    record = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nights.json").write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
    page = markdown(record)
    if args.results:
        args.results.write_text(page, encoding="utf-8")
    print(page)


if __name__ == "__main__":
    main()
