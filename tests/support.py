"""Helpers shared by the tests: simulate a scenario into a folder, run a night on it."""

import datetime as dt
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

AS_OF = dt.date(2026, 11, 25)
SOURCES = ("population", "vaccination", "social", "civil", "children")
URL_VARIABLES = {s: f"DOISOAT_{s.upper()}_URL" for s in SOURCES}


def sqlite_urls(directory: Path) -> dict[str, str]:
    return {source: f"sqlite:///{directory / f'{source}.sqlite'}" for source in SOURCES}


def simulate_into(directory: Path, scenario: str, seed: int = 7) -> dict:
    from simulator import simulate

    directory.mkdir(parents=True, exist_ok=True)
    return simulate(
        scenario, seed=seed, as_of=AS_OF, urls=sqlite_urls(directory), truth_path=directory / "ground_truth.parquet"
    )


def run_night_on(directory: Path, warehouse: Path, dagster_home: Path, selection=None) -> bool:
    """Run the nightly Dagster job on the sources in `directory` into `warehouse` (environment restored after)."""
    from orchestration.cli import run_night

    dagster_home.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    try:
        os.environ.update({URL_VARIABLES[s]: url for s, url in sqlite_urls(directory).items()})
        os.environ["DOISOAT_WAREHOUSE"] = str(warehouse)
        os.environ["DAGSTER_HOME"] = str(dagster_home)
        return run_night(AS_OF.isoformat(), selection)
    finally:
        os.environ.clear()
        os.environ.update(saved)


MARTS = ("fct_reconciliation", "fct_findings", "fct_indicators", "fct_enrichment", "fct_review_queue")


def mart_hashes(warehouse: Path, as_of: dt.date) -> dict[str, tuple[int, str]]:
    """Per mart: rows of the night and the md5 of its sorted rows (a mart missing from the warehouse is skipped)."""
    import duckdb

    hashes = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = {
            row[0]
            for row in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
        for mart in (*MARTS, "fct_finding_changes"):
            if mart not in present:
                continue
            rows, digest = con.execute(
                "select count(*), md5(coalesce(string_agg(cast(t as varchar), chr(10)"
                f" order by cast(t as varchar)), '')) from (select * from marts.{mart} where as_of = ?) as t",
                [as_of],
            ).fetchone()
            hashes[mart] = (rows, digest)
    return hashes


def night_env(directory: Path, warehouse: Path, dagster_home: Path) -> dict[str, str]:
    """The environment variables of a night on the sources in `directory`."""
    return {
        **{URL_VARIABLES[s]: url for s, url in sqlite_urls(directory).items()},
        "DOISOAT_WAREHOUSE": str(warehouse),
        "DAGSTER_HOME": str(dagster_home),
    }


def run_nights_on(directory: Path, warehouse: Path, dagster_home: Path, as_of: dt.date, **options) -> bool:
    """Run the night `as_of` (a Dagster partition) in this process with the environment of `night_env`."""
    from orchestration.cli import run_night

    dagster_home.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    try:
        os.environ.update(night_env(directory, warehouse, dagster_home))
        return run_night(as_of.isoformat(), **options)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def advance_into(directory: Path, as_of: dt.date, seed: int = 7, **options) -> dict:
    """The simulator's next night on the sources in `directory` (its state kept beside the truth file)."""
    from simulator import advance

    return advance(
        urls=sqlite_urls(directory), truth_path=directory / "ground_truth.parquet", as_of=as_of, seed=seed, **options
    )


def start_cli(args: list[str], env: dict) -> subprocess.Popen:
    """`doisoat ARGS` as a subprocess in its own process group (a SIGKILL to the group reaches dbt too)."""
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=Path(__file__).resolve().parents[1], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip


def lines_until(process, done, timeout: float) -> list[str]:
    """The process's stdout lines up to the first point where `done(lines)` holds (AssertionError otherwise)."""
    lines, deadline = [], time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if not selector.select(timeout=5):
            assert process.poll() is None, f"exited early: {lines} {process.stderr.read()}"
            continue
        line = process.stdout.readline()
        assert line, f"exited early: {lines} {process.stderr.read()}"
        lines.append(line.rstrip("\n"))
        if done(lines):
            return lines
    raise AssertionError(f"not reached within {timeout}s: {lines}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
