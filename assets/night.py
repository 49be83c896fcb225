"""One night at a time: the warehouse's night lock, and `meta.night_status`, which the gates and report trust.

* The lock is a file beside the warehouse (`<warehouse>.lock`, `filelock`): a night holds it for its whole run
  (the CLI before the run starts; a run Dagster launches itself through the `warehouse` resource, which lives as
  long as the run in the in-process executor). It is re-entrant within one process.
* `meta.night_status` has one row per night: `running` from the start of a run that rebuilds the marts,
  `published` once the marts step finished, `complete` when the run ended without a failure before the report,
  `failed` otherwise — also for a run found dead (killed) by the next run. The gates and the report refuse a
  night that is `running` or `failed`; a warehouse with no row for a night (built before this table) is trusted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from assets.resources import table_exists
from assets.retention import KEEP_NIGHTS_ENV, pruned_night

USABLE = ("published", "complete")
STATUS_DDL = (
    "create schema if not exists meta",
    """create table if not exists meta.night_status (
        as_of date primary key, run_id varchar, status varchar, step varchar,
        started_at timestamp, published_at timestamp, finished_at timestamp
    )""",
)
WAIT_VARIABLE = "DOISOAT_LOCK_WAIT"


class NightBusy(Exception):
    """Another night holds the warehouse; the message is one line."""


class NightNotReady(Exception):
    """The night is not in the warehouse or not complete; the message is one line."""


def utcnow() -> dt.datetime:
    """Now in UTC, without a time zone (DuckDB TIMESTAMP)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- the lock --------------------------------------------------------------------------------------------------


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def holder_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock.json")


_HELD: dict[str, list] = {}  # lock path -> [FileLock, depth]: re-entrant within the process


def _holder_text(warehouse: Path) -> str:
    try:
        holder = json.loads(holder_path(warehouse).read_text())
    except (OSError, ValueError):
        return "another night is running"
    parts = [f"{key} {holder[key]}" for key in ("as_of", "run", "pid", "since") if holder.get(key)]
    return f"another night is running ({', '.join(parts)})" if parts else "another night is running"


class NightLock:
    """The exclusive lock of one warehouse, held for a whole night."""

    def __init__(self, warehouse: Path):
        self.warehouse = Path(warehouse).resolve()
        self.key = str(lock_path(self.warehouse))

    def acquire(self, wait: float = 0, holder: dict | None = None, hint: str = "") -> None:
        """Take the lock, waiting up to `wait` seconds (<0: for ever); NightBusy with one line otherwise."""
        held = _HELD.get(self.key)
        if held:
            held[1] += 1
            return
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.key, timeout=wait, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            waited = f" after waiting {wait:g}s" if wait > 0 else ""
            raise NightBusy(f"{_holder_text(self.warehouse)} on {self.warehouse}{waited}{hint}") from None
        _HELD[self.key] = [lock, 1]
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": utcnow().isoformat(timespec="seconds")}
        holder_path(self.warehouse).write_text(json.dumps({**info, **(holder or {})}))

    def release(self) -> None:
        held = _HELD.get(self.key)
        if not held:
            return
        held[1] -= 1
        if held[1] == 0:
            del _HELD[self.key]
            holder_path(self.warehouse).unlink(missing_ok=True)
            held[0].release()

    @property
    def held_here(self) -> bool:
        return self.key in _HELD

    def __enter__(self) -> NightLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def default_wait() -> float:
    """Seconds a run Dagster launches waits for the lock (`DOISOAT_LOCK_WAIT`, default 0: fail at once)."""
    try:
        return float(os.environ.get(WAIT_VARIABLE) or 0)
    except ValueError:
        return 0.0


# --- night status ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NightStatus:
    as_of: dt.date
    run_id: str
    status: str
    step: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    def describe(self) -> str:
        where = f" at step {self.step}" if self.step else ""
        return f"status {self.status}{where}, run {self.run_id[:8]}"


def ensure_status_table(con) -> None:
    for statement in STATUS_DDL:
        con.execute(statement)


def _has_status_table(con) -> bool:
    return table_exists(con, "meta", "night_status")


def begin_night(con, as_of: dt.date, run_id: str) -> None:
    """Mark the night `running` for this run (its marts are about to change)."""
    ensure_status_table(con)
    con.execute(
        "insert or replace into meta.night_status values (?, ?, 'running', null, ?, null, null)",
        [as_of, run_id, utcnow()],
    )


def _own_night(con, as_of: dt.date, run_id: str) -> None:
    """The night's status row belongs to this run (begun now unless this run began it)."""
    ensure_status_table(con)
    row = con.execute("select run_id from meta.night_status where as_of = ?", [as_of]).fetchone()
    if row is None or row[0] != run_id:
        begin_night(con, as_of, run_id)


def claim_night(con, as_of: dt.date, run_id: str, step: str) -> None:
    """The night is `running` in this run, now at `step` (begun by this run already, or begun now)."""
    _own_night(con, as_of, run_id)
    con.execute(
        "update meta.night_status set status = 'running', step = ?, published_at = null where as_of = ?",
        [step, as_of],
    )


def mark_published(con, as_of: dt.date, run_id: str) -> None:
    """The night's marts are all written by this run."""
    _own_night(con, as_of, run_id)
    con.execute(
        "update meta.night_status set status = 'published', step = 'marts', published_at = ? where as_of = ?",
        [utcnow(), as_of],
    )


def finish_run(con, run_id: str, failed_step: str | None) -> None:
    """End of a run: its nights become `complete`, or `failed` at the step that failed (or never published)."""
    if not _has_status_table(con):
        return
    now = utcnow()
    if failed_step:
        con.execute(
            "update meta.night_status set status = 'failed', step = ?, finished_at = ?"
            " where run_id = ? and status in ('running', 'published')",
            [failed_step, now, run_id],
        )
    con.execute(
        "update meta.night_status set status = 'complete', finished_at = ? where run_id = ? and status = 'published'",
        [now, run_id],
    )
    con.execute(
        "update meta.night_status set status = 'failed', finished_at = ?, step = coalesce(step, 'before the marts')"
        " where run_id = ? and status = 'running'",
        [now, run_id],
    )


def fail_dead_nights(con, current_run_id: str, step_of=lambda run_id: None) -> list[str]:
    """Nights left `running`/`published` by another run: that run is dead (we hold the lock). Mark them failed."""
    if not _has_status_table(con):
        return []
    stale = con.execute(
        "select run_id from meta.night_status where status in ('running', 'published') and run_id <> ?",
        [current_run_id],
    ).fetchall()
    for (run_id,) in stale:
        step = step_of(run_id) or "unknown step"
        con.execute(
            "update meta.night_status set status = 'failed', step = ?, finished_at = ? where run_id = ?",
            [f"{step} (killed)", utcnow(), run_id],
        )
    return [run_id for (run_id,) in stale]


def night_status(con, as_of: dt.date) -> NightStatus | None:
    if not _has_status_table(con):
        return None
    row = con.execute(
        "select as_of, run_id, status, step, started_at, finished_at from meta.night_status where as_of = ?",
        [as_of],
    ).fetchone()
    return NightStatus(*row) if row else None


def require_usable(con, as_of: dt.date) -> None:
    """NightNotReady (one line) unless the night's marts are whole: `published`/`complete`, or no status row."""
    status = night_status(con, as_of)
    if status is not None and status.status not in USABLE:
        raise NightNotReady(
            f"night {as_of} is not complete ({status.describe()}); rerun it: doisoat run --as-of {as_of}"
        )


def check_night(warehouse: Path, as_of: dt.date) -> None:
    """NightNotReady (one line) unless the warehouse holds this night, whole."""
    import duckdb

    if not Path(warehouse).exists():
        raise NightNotReady(f"no warehouse at {warehouse}: run a night first (doisoat run)")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        require_usable(con, as_of)  # first: a night killed on its first run has no marts rows yet
        held = nights_in_marts(con)
        if as_of not in held:
            nights = ", ".join(str(d) for d in held[-5:]) or "none"
            raise NightNotReady(f"night {as_of} is not in the warehouse {warehouse} (nights held: {nights})")
        pruned = pruned_night(con, as_of)
        if pruned is not None:
            raise NightNotReady(
                f"night {as_of}'s record-level rows were removed on {pruned[0]:%Y-%m-%d} (only the newest {pruned[1]}"
                f" nights are kept, {KEEP_NIGHTS_ENV}); its indicators remain. Rerun it: doisoat run --as-of {as_of}"
            )


def nights_in_marts(con) -> list[dt.date]:
    """The nights present in marts.fct_indicators (empty when the marts do not exist)."""
    try:
        return [row[0] for row in con.execute("select distinct as_of from marts.fct_indicators order by 1").fetchall()]
    except Exception:  # no marts yet: a fresh warehouse
        return []


# --- messages --------------------------------------------------------------------------------------------------


_CLASS_PREFIX = re.compile(r"^(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Failure|Interrupt)?: ")


def root_cause(error) -> str:
    """The first line of the innermost cause of a Dagster `SerializableErrorInfo`, without its class path."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    if error is None:
        return ""
    lines = [line for line in (error.message or "").strip().splitlines() if line.strip()]
    first = lines[0].strip() if lines else error.cls_name or ""
    return _CLASS_PREFIX.sub("", first, count=1) or first


def scrub(text: str, urls: list[str]) -> str:
    """The text with the user names and passwords of these URLs (every form, as whole tokens) replaced."""
    from assets.connections import scrub as scrub_secrets
    from assets.connections import url_secrets

    return scrub_secrets(text, set().union(*(url_secrets(url) for url in urls)) if urls else set())


def configured_urls() -> list[str]:
    """Every source URL configured in the environment (for scrubbing)."""
    return [value for key, value in os.environ.items() if key.startswith("DOISOAT_") and key.endswith("_URL")]


# --- Dagster runs ----------------------------------------------------------------------------------------------

WAREHOUSE_TAG = "doisoat/warehouse"
PID_TAG = "doisoat/pid"


def unfinished_step(instance, run_id: str) -> str | None:
    """The step a run had started and not finished (where it was killed), from Dagster's event log."""
    from dagster import DagsterEventType

    started: list[str] = []
    finished: set[str] = set()
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            started.append(event.step_key)
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            finished.add(event.step_key)
    running = [step for step in started if step not in finished]
    return running[-1] if running else None


def failed_steps(instance, run_id: str) -> list[str]:
    from dagster import DagsterEventType

    return [
        record.dagster_event.step_key
        for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
        if record.dagster_event and record.dagster_event.step_key
    ]


def mark_killed_runs_failed(instance, warehouse: Path, current_run_id: str) -> list[str]:
    """Runs on this warehouse left STARTED/STARTING by a process that is gone (we hold the lock): FAILURE."""
    from dagster import DagsterRunStatus, RunsFilter

    runs = instance.get_runs(
        filters=RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
            tags={WAREHOUSE_TAG: str(warehouse)},
        )
    )
    marked = []
    for run in runs:
        if run.run_id == current_run_id:
            continue
        step = unfinished_step(instance, run.run_id)
        instance.report_run_failed(
            run,
            message=f"the run's process is gone (killed{f' in {step}' if step else ''}); "
            f"marked failed by run {current_run_id[:8]}",
        )
        marked.append(run.run_id)
    return marked


def rebuilds_marts(run) -> bool:
    """Whether a Dagster run materialises the marts step (the whole nightly job, or a selection with a mart)."""
    if not run.asset_selection:  # None or empty: the job's whole selection
        return run.job_name == "nightly"
    return any(key.path[0] == "marts" for key in run.asset_selection)


def run_as_of(run) -> dt.date | None:
    """The night of a run: its partition key (None for a run that is not of a night)."""
    key = run.tags.get("dagster/partition")
    try:
        return dt.date.fromisoformat(key) if key else None
    except ValueError:
        return None


class NightGuard:
    """What the `warehouse` resource does for a run's lifetime: lock, clean up after dead runs, night status."""

    def __init__(self, warehouse: Path, run_id: str):
        self.warehouse = warehouse
        self.run_id = run_id
        self.lock = NightLock(warehouse)

    @classmethod
    def start(cls, warehouse: Path, context) -> NightGuard | None:
        run = context.run
        if run is None or context.instance is None:
            return None
        guard = cls(warehouse.resolve(), run.run_id)
        as_of = run_as_of(run)
        guard.lock.acquire(
            wait=default_wait(),
            holder={"run": run.run_id[:8], "as_of": as_of.isoformat() if as_of else None},
            hint=f" (set {WAIT_VARIABLE}=SECONDS to wait)",
        )
        try:
            guard._begin(context.instance, run, as_of)
        except BaseException:
            guard.lock.release()
            raise
        return guard

    def _begin(self, instance, run, as_of: dt.date | None) -> None:
        import duckdb

        instance.add_run_tags(self.run_id, {WAREHOUSE_TAG: str(self.warehouse), PID_TAG: str(os.getpid())})
        mark_killed_runs_failed(instance, self.warehouse, self.run_id)
        if not self.warehouse.exists() and not rebuilds_marts(run):
            return
        with duckdb.connect(str(self.warehouse)) as con:
            fail_dead_nights(con, self.run_id, lambda run_id: unfinished_step(instance, run_id))
            # A committed night being rerun keeps its status until the marts step claims it: its marts are still
            # whole meanwhile, and ingestion reads the committed nights to replay this one from the history.
            current = night_status(con, as_of) if as_of is not None else None
            if as_of is not None and rebuilds_marts(run) and (current is None or current.status not in USABLE):
                begin_night(con, as_of, self.run_id)

    def finish(self, instance) -> None:
        import duckdb

        try:
            if self.warehouse.exists():
                # the report and the alerts come after the marts are published: their failure does not unmake the night
                failed = [s for s in failed_steps(instance, self.run_id) if not s.startswith(("report", "alerts"))]
                with duckdb.connect(str(self.warehouse)) as con:
                    finish_run(con, self.run_id, failed[0] if failed else None)
        finally:
            self.lock.release()
