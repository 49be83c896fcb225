"""Benchmark a whole night: simulate a scenario, run the nightly Dagster job, record every stage.

    uv run --frozen python bench/night.py --scenario province            # simulate, then the night
    uv run --frozen python bench/night.py --sources DIR                  # an already simulated scenario

Per stage (simulate, ingest, dbt staging, linkage, dbt reconciliation, gates, report) and in total: wall time,
CPU time (this process and its children, dbt included) and peak memory (RSS of this process plus its live
children), from a sampler thread (psutil, every 0.2 s) cut at the Dagster step boundaries. Also: the machine
(CPU model, cores, RAM, versions), the load average before, during and after (the machine may be shared), the
dbt per-node timings (run_results.json) and the province scope of `marts.fct_indicators` against the
scenario's figures and its ground truth. Writes `<out>/night.json` and, with `--results`, a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import json
import os
import platform
import subprocess
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("simulate", "ingest", "dbt staging", "linkage", "dbt reconciliation", "gates", "report", "alerts")
PACKAGES = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "splink", "great-expectations", "pandas")
SOURCES = ("population", "vaccination", "social", "civil", "children")
FIGURE_CODES = (
    "children_reviewed",
    "children_with_id_code",
    "vaccine_passports_signed",
    "vaccination_clean",
    "civil_digitised",
    "social_account_payment",
    "social_reconciled",
    "population_clean",
)


class Sampler(threading.Thread):
    """Samples (time, cumulative CPU seconds, RSS bytes, 1-min load) of this process and its children."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, float, int, float]] = []
        self._halt = threading.Event()
        self._proc = psutil.Process()

    def sample(self) -> tuple[float, float, int, float]:
        """One sample now."""
        own = self._proc.cpu_times()
        cpu = own.user + own.system + own.children_user + own.children_system
        rss = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            try:
                times = child.cpu_times()
                cpu += times.user + times.system
                rss += child.memory_info().rss
            except psutil.Error:
                continue
        return time.time(), cpu, rss, os.getloadavg()[0]

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append(self.sample())
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.samples.append(self.sample())

    def window(self, start: float, end: float) -> dict:
        """Wall, CPU and peak RSS between two epoch times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        before = [s for s in self.samples if s[0] <= start] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= end] or self.samples[-1:]
        cpu = after[0][1] - before[-1][1]
        peak = max((s[2] for s in inside), default=max(before[-1][2], after[0][2]))
        loads = [s[3] for s in inside] or [before[-1][3]]
        return {
            "wall_s": round(end - start, 2),
            "cpu_s": round(max(cpu, 0.0), 2),
            "peak_rss_mib": round(peak / 2**20),
            "load_1min_mean": round(sum(loads) / len(loads), 2),
        }


def machine() -> dict:
    """CPU model, cores, RAM, OS and package versions."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_model": model or platform.processor(),
        "logical_cores": psutil.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
    }


def uptime() -> str:
    """`uptime` as printed (load averages of the shared machine)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def stage_of(step_key: str) -> str:
    """The benchmark stage a Dagster step belongs to."""
    if "dbt_staging" in step_key:
        return "dbt staging"
    if "dbt_reconciliation" in step_key:
        return "dbt reconciliation"
    if "linkage" in step_key:
        return "linkage"
    if "gx_" in step_key or "quality" in step_key:
        return "gates"
    if "report" in step_key or "writeback" in step_key:
        return "report"
    if step_key.startswith("alerts"):
        return "alerts"
    return "ingest"  # the raw tables and their checks


def dbt_timings(since: float, top: int = 25) -> dict:
    """Per-node execution times of the dbt invocations written after `since` (run_results.json)."""
    out = {}
    for path in sorted((ROOT / "dbt_project" / "target").rglob("run_results.json")):
        if path.stat().st_mtime < since:
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        nodes = [
            {
                "node": r["unique_id"],
                "status": r["status"],
                "seconds": round(r.get("execution_time") or 0.0, 2),
            }
            for r in data.get("results", [])
        ]
        models = [n for n in nodes if n["node"].startswith(("model.", "seed."))]
        tests = [n for n in nodes if n["node"].startswith(("test.", "unit_test."))]
        out[str(path.relative_to(ROOT))] = {
            "elapsed_s": round(data.get("elapsed_time") or 0.0, 2),
            "models": len(models),
            "tests": len(tests),
            "models_s": round(sum(n["seconds"] for n in models), 2),
            "tests_s": round(sum(n["seconds"] for n in tests), 2),
            "slowest_models": sorted(models, key=lambda n: -n["seconds"])[:top],
            "slowest_tests": sorted(tests, key=lambda n: -n["seconds"])[:top],
        }
    return out


def province_indicators(warehouse: Path, as_of: str) -> dict:
    """The province scope of marts.fct_indicators (numerator, denominator, rate) for the figure indicators."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select indicator_code, numerator, denominator, rate from marts.fct_indicators"
            " where as_of = ? and scope_level = 'province'",
            [as_of],
        ).fetchall()
        citizens = con.execute("select count(*) from staging.stg_population__citizen").fetchone()[0]
    finally:
        con.close()
    out = {code: {"numerator": int(n), "denominator": int(d), "rate": r} for code, n, d, r in rows}
    out["residents"] = {"count": int(citizens)}
    return out


def simulate_stage(scenario, out: Path, as_of: str, sampler: Sampler) -> dict:
    """Simulate the scenario into `out` (SQLite) and measure it."""
    from simulator import simulate

    urls = {s: f"sqlite:///{out}/{s}.sqlite" for s in SOURCES}
    start = time.time()
    counts = simulate(
        scenario, seed=0, as_of=dt.date.fromisoformat(as_of), urls=urls, truth_path=out / "ground_truth.parquet"
    )
    return {"window": (start, time.time()), "rows": sum(counts.values())}


def measure_night(as_of: str, sampler: Sampler, full_refresh: bool = False) -> dict:
    """Run one night (partition `as_of`) with the environment as set; its step windows and whether it succeeded."""
    import dagster as dg

    from orchestration.cli import run_night

    night_start = time.time()
    ok = run_night(as_of, full_refresh=full_refresh)
    night_end = time.time()
    windows: dict[str, list[tuple[float, float]]] = {s: [] for s in STAGES}
    steps_out = []
    with dg.DagsterInstance.get() as instance:
        dagster_run = instance.get_runs(limit=1)[0]
        steps = instance.get_run_step_stats(dagster_run.run_id)
    for step in sorted(steps, key=lambda s: s.start_time or 0):
        if step.start_time and step.end_time:
            windows[stage_of(step.step_key)].append((step.start_time, step.end_time))
            steps_out.append({"step": step.step_key, "window": (step.start_time, step.end_time)})
    return {"succeeded": ok, "window": (night_start, night_end), "windows": windows, "steps": steps_out}


def stage_table(windows: dict[str, list[tuple[float, float]]], sampler: Sampler) -> dict:
    """Per stage: wall, CPU, peak memory and mean load over its windows."""
    stages = {}
    for stage, spans in windows.items():
        if not spans:
            continue
        parts = [sampler.window(a, b) for a, b in spans]
        stages[stage] = {
            "wall_s": round(sum(p["wall_s"] for p in parts), 2),
            "cpu_s": round(sum(p["cpu_s"] for p in parts), 2),
            "peak_rss_mib": max(p["peak_rss_mib"] for p in parts),
            "load_1min_mean": round(sum(p["load_1min_mean"] for p in parts) / len(parts), 2),
        }
    return stages


def run(args: argparse.Namespace) -> dict:
    """Simulate (unless --sources), run the night, measure; the result record."""
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    sources = (args.sources or out).resolve()
    warehouse = out / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    record: dict = {
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario": (
            f"sources from {sources}"
            if args.sources is not None
            else args.scenario
            if args.scale is None
            else f"province_x{args.scale:g}"
        ),
        "as_of": args.as_of,
        "machine": machine(),
        "uptime_before": uptime(),
    }
    sampler = Sampler()
    sampler.start()
    windows: dict[str, list[tuple[float, float]]] = {s: [] for s in STAGES}
    t0 = time.time()
    if args.sources is None:
        from simulator.config import scaled_province

        scenario = args.scenario if args.scale is None else scaled_province(args.scale)
        sim = simulate_stage(scenario, sources, args.as_of, sampler)
        windows["simulate"].append(sim["window"])
        record["source_rows"] = sim["rows"]
    for source in SOURCES:
        os.environ[f"DOISOAT_{source.upper()}_URL"] = f"sqlite:///{sources / f'{source}.sqlite'}"
    os.environ["DOISOAT_WAREHOUSE"] = str(warehouse)
    os.environ["DAGSTER_HOME"] = str(out / "dagster_home")
    (out / "dagster_home").mkdir(exist_ok=True)
    measured = measure_night(args.as_of, sampler)
    ok, night_start, night_end = measured["succeeded"], *measured["window"]
    sampler.stop()
    record["succeeded"] = ok
    record["steps"] = [{"step": s["step"], **sampler.window(*s["window"])} for s in measured["steps"]]
    for stage, spans in measured["windows"].items():
        windows[stage].extend(spans)
    stages = stage_table(windows, sampler)
    record["stages"] = stages
    record["night"] = sampler.window(night_start, night_end)
    record["total"] = sampler.window(t0, night_end)
    record["uptime_after"] = uptime()
    record["dbt"] = dbt_timings(night_start)
    if ok:
        record["fct_indicators_province"] = province_indicators(warehouse, args.as_of)
    truth_meta = sources / "ground_truth.json"
    if truth_meta.exists():
        meta = json.loads(truth_meta.read_text(encoding="utf-8"))
        record["figures_from_truth"] = meta.get("figures")
        record["figures_target"] = meta.get("figures_target")
    return record


class RecordedSamples(Sampler):
    """Samples written by an external sampler (CSV: epoch, cumulative CPU s, RSS bytes, 1-min load)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        for line in path.read_text().splitlines():
            t, cpu, rss, load = line.split(",")
            self.samples.append((float(t), float(cpu), int(rss), float(load)))


def recover(out: Path, samples: Path, started: float, as_of: str) -> dict:
    """The record of a night that was stopped (or whose process died) before writing it: completed Dagster
    steps from `<out>/dagster_home`, CPU and RSS from an external sampler's CSV (cumulative CPU since the
    process started at epoch `started`); simulate ends when ground_truth.json was written."""
    os.environ["DAGSTER_HOME"] = str(out / "dagster_home")
    import dagster as dg

    sampler = RecordedSamples(samples)
    record: dict = {
        "started_utc": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        "scenario": f"recovered from {out}",
        "as_of": as_of,
        "machine": machine(),
        "uptime_before": "(not recorded: recovered run)",
        "uptime_after": uptime(),
        "succeeded": False,
        "recovered": True,
    }
    sampler.samples.insert(0, (started, 0.0, 0, sampler.samples[0][3]))
    windows: dict[str, list[tuple[float, float]]] = {s: [] for s in STAGES}
    truth = out / "ground_truth.json"
    if truth.exists():
        windows["simulate"].append((started, truth.stat().st_mtime))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        steps = instance.get_run_step_stats(runs[0].run_id) if runs else []
        record["run_status"] = str(runs[0].status) if runs else None
    record["steps"] = []
    for step in sorted(steps, key=lambda s: s.start_time or 0):
        if step.start_time and step.end_time:
            windows[stage_of(step.step_key)].append((step.start_time, step.end_time))
            record["steps"].append({"step": step.step_key, **sampler.window(step.start_time, step.end_time)})
        elif step.start_time:
            record["steps"].append({"step": step.step_key, "unfinished_since_s": round(time.time() - step.start_time)})
    record["stages"] = {}
    for stage, spans in windows.items():
        if spans:
            parts = [sampler.window(a, b) for a, b in spans]
            record["stages"][stage] = {
                "wall_s": round(sum(p["wall_s"] for p in parts), 2),
                "cpu_s": round(sum(p["cpu_s"] for p in parts), 2),
                "peak_rss_mib": max(p["peak_rss_mib"] for p in parts),
                "load_1min_mean": round(sum(p["load_1min_mean"] for p in parts) / len(parts), 2),
            }
    last = sampler.samples[-1][0]
    night_start = min((s.start_time for s in steps if s.start_time), default=last)
    record["night"] = sampler.window(night_start, last)
    record["total"] = sampler.window(started, last)
    record["dbt"] = dbt_timings(night_start)
    if truth.exists():
        meta = json.loads(truth.read_text(encoding="utf-8"))
        record["figures_from_truth"] = meta.get("figures")
        record["figures_target"] = meta.get("figures_target")
    return record


def _row(label: str, s: dict) -> str:
    return f"| {label} | {s['wall_s']:.1f} | {s['cpu_s']:.1f} | {s['peak_rss_mib']:,} | {s['load_1min_mean']} |"


def markdown(record: dict) -> str:
    """The record as a Markdown page."""
    m = record["machine"]
    lines = [
        f"# Whole night — {record['scenario']}, as of {record['as_of']}",
        "",
        f"Measured {record['started_utc']} by `uv run --frozen python bench/night.py` "
        f"({'succeeded' if record['succeeded'] else 'FAILED or not finished'})"
        + (
            " — recovered from Dagster's event log and an external sampler: see the notes."
            if record.get("recovered")
            else "."
        ),
        "",
        f"Machine: {m['cpu_model']}, {m['logical_cores']} logical cores, {m['ram_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + ".",
        "",
        "**Under load**: the machine was shared with other work during the run; load averages:",
        f"* before: `{record['uptime_before']}`",
        f"* after: `{record['uptime_after']}`",
        "",
        "| stage | wall s | CPU s | peak RSS MiB | mean 1-min load |",
        "|---|---:|---:|---:|---:|",
    ]
    for stage in STAGES:
        if record["stages"].get(stage):
            lines.append(_row(stage, record["stages"][stage]))
    for label, key in (("night (Dagster job)", "night"), ("**total**", "total")):
        lines.append(_row(label, record[key]))
    lines += ["", "CPU is user + system of this process and its children (dbt); peak RSS adds live children.", ""]
    lines += ["## Steps", "", "| step | wall s | CPU s | peak RSS MiB |", "|---|---:|---:|---:|"]
    for s in record["steps"]:
        if "wall_s" in s:
            lines.append(f"| {s['step']} | {s['wall_s']:.1f} | {s['cpu_s']:.1f} | {s['peak_rss_mib']:,} |")
        else:
            lines.append(f"| {s['step']} (unfinished after {s['unfinished_since_s']} s) | | | |")
    fct = record.get("fct_indicators_province")
    truth = record.get("figures_from_truth") or {}
    if fct:
        lines += [
            "",
            "## Province scope of `fct_indicators` against the figures",
            "",
            "| indicator | fct numerator / denominator | fct rate % | ground truth (perfect linkage) | truth rate % |",
            "|---|---:|---:|---:|---:|",
        ]
        for code in ("residents", *FIGURE_CODES):
            f, t = fct.get(code), truth.get(code)
            if code == "residents":
                truth_count = f"{t['count']:,}" if t else ""
                lines.append(f"| residents (citizens) | {f['count']:,} | | {truth_count} | |")
                continue
            if not f:
                continue
            fr = f"{f['rate']:.4f}" if f["rate"] is not None else ""
            tt = f"{t['numerator']:,} / {t['denominator']:,}" if t else ""
            tr = f"{t['rate']:.4f}" if t and t["rate"] is not None else ""
            lines.append(f"| {code} | {f['numerator']:,} / {f['denominator']:,} | {fr} | {tt} | {tr} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="province")
    parser.add_argument(
        "--scale", type=float, default=None, help="simulate the calibrated province at this factor of its size"
    )
    parser.add_argument("--sources", type=Path, default=None, help="already simulated sources (skip simulate)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/doisoat-bench-night"))
    parser.add_argument("--as-of", default="2025-11-20")
    parser.add_argument("--results", type=Path, default=None, help="also write the Markdown page here")
    parser.add_argument("--from-json", type=Path, default=None, help="only render a recorded night.json")
    parser.add_argument("--recover-samples", type=Path, default=None, help="CSV of an external sampler")
    parser.add_argument("--started", type=float, default=None, help="with --recover-samples: process start, epoch")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.from_json:
        record = json.loads(args.from_json.read_text(encoding="utf-8"))
    elif args.recover_samples:
        record = recover(args.out.resolve(), args.recover_samples, args.started, args.as_of)
        (args.out / "night.json").write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
    else:
        record = run(args)
        (args.out / "night.json").write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
    page = markdown(record)
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(page, encoding="utf-8")
        args.results.with_suffix(".json").write_text(json.dumps(record, indent=1, default=str) + "\n")
    print(page)


if __name__ == "__main__":
    main()
