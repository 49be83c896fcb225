"""One night at a time: the warehouse lock (CLI and Dagster runs), the night status, dead runs, safe storage init."""

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.night import (
    WAREHOUSE_TAG,
    NightBusy,
    NightLock,
    NightNotReady,
    begin_night,
    finish_run,
    mark_published,
    night_status,
    require_usable,
    root_cause,
    scrub,
)
from assets.resources import WarehouseResource

AS_OF = dt.date(2026, 11, 25)
ROOT = Path(__file__).resolve().parents[2]


def _hold_lock_in_another_process(warehouse: Path) -> subprocess.Popen:
    code = (
        "import sys, time; from pathlib import Path; from assets.night import NightLock;"
        f"NightLock(Path({str(warehouse)!r})).acquire(holder={{'as_of': '2026-11-25', 'run': 'other'}});"
        "print('held', flush=True); time.sleep(120)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_lock_excludes_another_process_with_one_line(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = _hold_lock_in_another_process(warehouse)
    try:
        with pytest.raises(NightBusy) as busy:
            NightLock(warehouse).acquire(wait=0)
        message = str(busy.value)
        assert "\n" not in message
        assert f"pid {holder.pid}" in message and "as_of 2026-11-25" in message
        started = time.perf_counter()
        with pytest.raises(NightBusy, match="after waiting 0.5s"):
            NightLock(warehouse).acquire(wait=0.5)
        assert time.perf_counter() - started >= 0.5
    finally:
        holder.kill()
        holder.wait()
    lock = NightLock(warehouse)
    lock.acquire(wait=5)  # free once the holder is gone (the OS drops a dead process's lock)
    lock.acquire()  # re-entrant in this process
    lock.release()
    assert lock.held_here
    lock.release()
    assert not lock.held_here


def test_night_status_transitions(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        require_usable(con, AS_OF)  # no status table: a warehouse from before it is trusted
        begin_night(con, AS_OF, "run-1")
        with pytest.raises(NightNotReady, match="not complete .status running"):
            require_usable(con, AS_OF)
        mark_published(con, AS_OF, "run-1")
        require_usable(con, AS_OF)  # the marts are whole: the gates and report of the same run may read them
        finish_run(con, "run-1", None)
        assert night_status(con, AS_OF).status == "complete"
        begin_night(con, AS_OF, "run-2")
        finish_run(con, "run-2", "raw__population__citizen")
        status = night_status(con, AS_OF)
        assert (status.status, status.step) == ("failed", "raw__population__citizen")
        with pytest.raises(NightNotReady, match="rerun it: doisoat run --as-of 2026-11-25"):
            require_usable(con, AS_OF)


def _fake_night(warehouse: Path, publish: bool = True) -> dg.Definitions:
    """A two-step 'nightly' job on the real warehouse resource: one step that checks the lock, one mart."""

    @dg.asset(key=["raw", "probe"])
    def probe(warehouse: WarehouseResource) -> dg.MaterializeResult:
        assert NightLock(warehouse.resolved_path()).held_here, "the lock is held during every step"
        return dg.MaterializeResult()

    @dg.asset(key=["marts", "probe"], deps=[probe])
    def mart(context, warehouse: WarehouseResource) -> None:
        from assets.night import claim_night, mark_published

        assert NightLock(warehouse.resolved_path()).held_here
        with warehouse.connect() as con:  # as the real marts step does: the night is this run's from here
            claim_night(con, AS_OF, context.run.run_id, step="marts")
        if not publish:
            raise RuntimeError("the marts broke")
        with warehouse.connect() as con:
            mark_published(con, AS_OF, context.run.run_id)

    job = dg.define_asset_job("nightly", executor_def=dg.in_process_executor)
    return dg.Definitions(
        assets=[probe, mart], jobs=[job], resources={"warehouse": WarehouseResource(path=str(warehouse))}
    )


def _run(defs, instance) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("nightly").execute_in_process(
        instance=instance, tags={"dagster/partition": AS_OF.isoformat()}, raise_on_error=False
    )


def test_a_dagster_run_holds_the_lock_for_its_lifetime_and_marks_the_night(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with dg.instance_for_test() as instance:
        result = _run(_fake_night(warehouse), instance)
        assert result.success
        assert not NightLock(warehouse).held_here  # released at the end of the run
        with duckdb.connect(str(warehouse), read_only=True) as con:
            status = night_status(con, AS_OF)
        assert (status.status, status.run_id) == ("complete", result.run_id)
        assert instance.get_run_by_id(result.run_id).tags[WAREHOUSE_TAG] == str(warehouse.resolve())

        failed = _run(_fake_night(warehouse, publish=False), instance)
        assert not failed.success
        with duckdb.connect(str(warehouse), read_only=True) as con:
            status = night_status(con, AS_OF)
        assert (status.status, status.step) == ("failed", "marts__probe")


def test_a_run_dagster_launches_while_another_night_runs_fails_at_once(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = _hold_lock_in_another_process(warehouse)
    try:
        with dg.instance_for_test() as instance:
            started = time.perf_counter()
            result = _run(_fake_night(warehouse), instance)
            assert time.perf_counter() - started < 30
            assert not result.success
            failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
            assert not warehouse.exists(), "nothing was written"
            records = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RESOURCE_INIT_FAILURE)
            cause = root_cause(records[0].dagster_event.event_specific_data.error) if records else failure.message
            assert cause.startswith("another night is running (as_of 2026-11-25")
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_run_is_marked_failed_by_the_next_run(tmp_path):
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    warehouse = tmp_path / "warehouse.duckdb"
    with dg.instance_for_test() as instance:
        dead = DagsterRun(
            job_name="nightly",
            run_id="dead0000-0000-0000-0000-000000000000",
            status=DagsterRunStatus.STARTED,
            tags={WAREHOUSE_TAG: str(warehouse.resolve())},
        )
        instance.add_run(dead)
        with duckdb.connect(str(warehouse)) as con:
            begin_night(con, AS_OF - dt.timedelta(days=1), dead.run_id)  # the dead run's night, left running
        assert _run(_fake_night(warehouse), instance).success
        assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
        with duckdb.connect(str(warehouse), read_only=True) as con:
            status = night_status(con, AS_OF - dt.timedelta(days=1))
        assert status.status == "failed" and status.step.endswith("(killed)")


def test_storage_is_initialised_once_when_runs_start_together(tmp_path):
    home = tmp_path / "dagster_home"
    code = "from orchestration.instance import open_instance; open_instance().dispose()"
    env = {"DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin"}
    starters = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env) for _ in range(3)]
    assert [p.wait(timeout=300) for p in starters] == [0, 0, 0]
    for database in ("history/runs.db", "schedules/schedules.db"):
        with sqlite3.connect(home / database) as con:
            assert con.execute("select count(*) from alembic_version").fetchone()[0] == 1, database


def test_scrub_removes_credentials_as_whole_tokens_in_every_form():
    url = "postgresql+psycopg://ref:p%40ss%20w%3Ard@db.example:5432/vac"
    text = "Connection refused for ref with p@ss w:rd, p%40ss%20w%3Ard and p%40ss+w%3Ard"
    assert scrub(text, [url]) == "Connection refused for *** with ***, *** and ***"


def test_root_cause_is_the_innermost_first_line():
    from dagster._utils.error import SerializableErrorInfo

    inner = SerializableErrorInfo("_duckdb.ConversionException: Conversion Error: bad cast\nLINE 1\n", [], "X")
    outer = SerializableErrorInfo(
        "dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op\n", [], "Y", inner
    )
    assert root_cause(outer) == "Conversion Error: bad cast"
    failure = SerializableErrorInfo("dagster._core.definitions.events.Failure: source vaccination: gone\n", [], "F")
    assert root_cause(failure) == "source vaccination: gone"


def test_failure_alert_names_step_and_cause_without_the_password(monkeypatch):
    from orchestration.sensors import failure_message

    monkeypatch.setenv("DOISOAT_SOCIAL_URL", "postgresql+psycopg://u:s3cret%20pw@h/db")
    message = failure_message("run-1", [("raw__social__beneficiary", "auth failed for s3cret pw")], "")
    assert message.splitlines()[1] == "raw__social__beneficiary: auth failed for ***"
