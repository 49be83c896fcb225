"""Nights as a tester runs them, as `doisoat run` processes: two at once, one killed in the marts, a rerun.

One test, because each night costs minutes: two runs start together on a fresh DAGSTER_HOME (one runs, the other
exits at once with one line); the runner is SIGKILLed during the dbt reconciliation step (the night stays
`running`: the report refuses it); a third run succeeds, marks the killed run failed, and a fourth run from other
sources started during it is turned away, so that the third's marts match its own sources record by record.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

from assets.dbt import DBT_PROJECT_DIR
from assets.night import night_status
from tests.support import AS_OF, URL_VARIABLES, lines_until, sqlite_urls, start_cli

ROOT = Path(__file__).resolve().parents[2]
BUSY = 75


def _status(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return night_status(con, AS_OF)


def test_one_night_at_a_time_and_a_killed_night_stays_incomplete(tiny_sources, tmp_path):
    warehouse, home = tmp_path / "warehouse.duckdb", tmp_path / "dagster_home"
    env = {**os.environ, "DOISOAT_WAREHOUSE": str(warehouse), "DAGSTER_HOME": str(home), "DOISOAT_AS_OF": ""}
    env.update({URL_VARIABLES[s]: url for s, url in sqlite_urls(tiny_sources).items()})
    night = ["run", "--as-of", AS_OF.isoformat()]
    started = time.time()

    # two runs together on a fresh DAGSTER_HOME: one runs, the other exits at once with one line
    first, second = start_cli(night, env), start_cli(night, env)
    deadline = time.monotonic() + 300
    while first.poll() is None and second.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    loser, winner = (first, second) if first.poll() is not None else (second, first)
    _, err = loser.communicate(timeout=60)
    assert loser.returncode == BUSY
    assert len(err.strip().splitlines()) == 1 and "another night is running" in err, err

    # the winner is killed during the dbt reconciliation step (the line after linkage is printed as it starts)
    # (3 s in: the step has claimed the night, and dbt's own start-up alone takes longer than that; at 10 s the
    # faster reconciliation of a tiny night had already published it)
    lines_until(winner, lambda lines: "linkage (Splink)" in lines[-1], timeout=1800)
    time.sleep(3)
    os.killpg(winner.pid, signal.SIGKILL)
    winner.wait()
    status = _status(warehouse)
    assert (status.status, status.step) == ("running", "marts"), status
    report = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "report", "--as-of", AS_OF.isoformat()],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert report.returncode != 0
    assert report.stderr.strip().splitlines() == [
        f"Error: night {AS_OF} is not complete (status running at step marts, run {status.run_id[:8]}); "
        f"rerun it: doisoat run --as-of {AS_OF}"
    ]

    # a third run succeeds; a run from other sources started during it is turned away with one line
    third = start_cli(night, env)
    lines_until(third, lambda lines: "ingest children" in lines[-1], timeout=900)
    other_sources = tmp_path / "other"
    other_sources.mkdir()
    shutil.copyfile(tiny_sources / "population.sqlite", other_sources / "population.sqlite")
    other_env = {**env, URL_VARIABLES["population"]: f"sqlite:///{other_sources / 'population.sqlite'}"}
    other = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *night], cwd=ROOT, env=other_env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert other.returncode == BUSY and len(other.stderr.strip().splitlines()) == 1, other.stderr
    out, err = third.communicate(timeout=3600)
    assert third.returncode == 0, out + err

    # the killed run is FAILURE, the night complete, Dagster's storage has one alembic head
    status = _status(warehouse)
    assert status.status == "complete" and status.run_id.startswith(out.split("(run ")[1][:8])
    with sqlite3.connect(home / "history" / "runs.db") as con:
        assert con.execute("select count(*) from alembic_version").fetchone()[0] == 1
        statuses = sorted(row[0] for row in con.execute("select status from runs"))
    assert statuses == ["FAILURE", "SUCCESS"]

    # the console: quiet, one line per step, and a summary naming the indicators below target
    assert "DEBUG" not in out and "\x1b[" not in out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        below = [
            code
            for (code,) in con.execute(
                "select indicator_code from marts.fct_indicators"
                " where as_of = ? and scope_level = 'province' and not meets_target",
                [AS_OF],
            ).fetchall()
        ]
        recon = con.execute(
            "select source, count(*) from marts.fct_reconciliation where as_of = ? group by 1", [AS_OF]
        ).fetchall()
    assert below and all(f"\n  {code} " in out for code in below)
    assert f"report: {warehouse.parent / 'reports' / AS_OF.isoformat() / 'index.html'}" in out

    # the third night's marts are its own sources' records, one row each
    truth = pd.read_parquet(tiny_sources / "ground_truth.parquet")
    expected = truth[truth["record_kind"] == "record"].groupby("source").size().to_dict()
    assert dict(recon) == expected

    # dbt's target folder did not grow by a folder per step
    target = DBT_PROJECT_DIR / "target"
    grown = [p.name for p in target.iterdir() if p.is_dir() and p.name not in ("runs", "last_night")]
    assert not [name for name in grown if (target / name).stat().st_mtime > started], grown
    assert (DBT_PROJECT_DIR / "target" / "last_night" / "dbt_reconciliation" / "run_results.json").exists()
