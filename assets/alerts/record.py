"""`meta.alerts`: one row per alert sent (appended: a rerun's alerts are new sends), and the failed-run alert."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from assets.alerts.channels import Delivery, dispatch, secrets_of
from assets.alerts.config import AlertConfig, load_config_or_default
from assets.alerts.model import Alert, config_alert, make_safe
from assets.connections import first_line
from expectations.contracts import CONTRACTS

LOG = logging.getLogger("doisoat.alerts")

ALERTS_DDL = (
    "create schema if not exists meta",
    """create table if not exists meta.alerts (
        as_of date, kind varchar, severity varchar, subject varchar, sent_via varchar, sent_at timestamp
    )""",
)


def record_alerts(con, as_of: dt.date | None, alerts: Sequence[Alert], delivery: Delivery) -> None:
    """Append what was sent to `meta.alerts` (one insert for the batch)."""
    for statement in ALERTS_DDL:
        con.execute(statement)
    if not alerts:
        return
    via = ",".join(delivery.sent_via) or "none"
    con.executemany(
        "insert into meta.alerts values (?, ?, ?, ?, ?, ?)",
        [(as_of, a.kind, a.severity, a.subject, via, delivery.sent_at) for a in alerts],
    )


# --- a failed night --------------------------------------------------------------------------------------------

_STEP_SOURCES = {f"raw__{c.raw_name}": c.source for c in CONTRACTS}


def step_source(step: str) -> str | None:
    """The source a step reads, when the step is one table's ingestion (`raw__<source>__<table>`)."""
    return _STEP_SOURCES.get(step)


def failures_from_events(events: Iterable) -> list[tuple[str, str]]:
    """(step, root cause) of Dagster step-failure events (a run's, or `execute_in_process`'s result's)."""
    from assets.night import root_cause

    return [
        (event.step_key or "the run", root_cause(event.step_failure_data.error) if event.step_failure_data else "")
        for event in events
    ]


def failed_night_alert(
    as_of: dt.date | None, run_id: str, failures: Sequence[tuple[str, str]], message: str = ""
) -> Alert:
    """The alert of a failed run: each failing step, its source when it reads one, and its root cause."""
    night = as_of.isoformat() if as_of else "?"
    lines_vi, lines_en = [], []
    sources = []
    for step, cause in failures:
        source = step_source(step)
        if source and source not in sources:
            sources.append(source)
        where = f" (nguồn {source})" if source else ""
        where_en = f" (source {source})" if source else ""
        lines_vi.append(f"Bước {step}{where}: {cause or 'không rõ nguyên nhân'}")
        lines_en.append(f"Step {step}{where_en}: {cause or 'cause unknown'}")
    if not failures:
        lines_vi.append(f"Lượt chạy lỗi: {message or 'không rõ nguyên nhân'}")
        lines_en.append(f"The run failed: {message or 'cause unknown'}")
    steps = ", ".join(step for step, _ in failures) or "the run"
    return Alert(
        kind="run_failed",
        severity="error",
        source=sources[0] if len(sources) == 1 else None,
        subject_vi=f"Đêm đối soát {night} thất bại ở {steps} (lượt {run_id[:8]})",
        subject_en=f"Night {night} failed in {steps} (run {run_id[:8]})",
        body_vi=(*lines_vi, "Báo cáo và kiểm tra chất lượng không dùng đêm này cho đến khi chạy lại."),
        body_en=(*lines_en, "The report and gates refuse this night until it is rerun."),
        counts={"failed_steps": len(failures)},
    )


def _claim_run(directory: Path, run_id: str) -> bool:
    """True the first time a run's failure is notified (the CLI and the sensor may both see it)."""
    marks = directory / ".notified"
    marks.mkdir(parents=True, exist_ok=True)
    try:
        (marks / f"{run_id}.failed").open("x").close()
    except FileExistsError:
        return False
    return True


def notify_failed_night(
    as_of: dt.date | None,
    run_id: str,
    failures: Sequence[tuple[str, str]],
    message: str = "",
    warehouse: Path | None = None,
    config: AlertConfig | None = None,
    log: Callable[[str], None] | None = None,
) -> Alert | None:
    """Send the failed-run alert once per run (CLI and sensor alike), record it in `meta.alerts` when possible.

    Returns the alert as sent (scrubbed), or None when this run was already notified. Never raises for a
    channel or the warehouse: a night's failure is reported even when the warehouse is what broke.
    """
    warn = log or LOG.warning
    if warehouse is None:
        from assets.resources import WarehouseResource

        warehouse = WarehouseResource().resolved_path()
    problem = None
    if config is None:
        config, problem = load_config_or_default(warehouse=warehouse)
    try:
        first = _claim_run(config.directory, run_id)
    except OSError:
        first = True  # the directory is not writable: better twice than never
    if not first:
        return None
    batch = [failed_night_alert(as_of, run_id, failures, message)] + ([config_alert(problem)] if problem else [])
    sent, delivery = dispatch(batch, as_of, config, warn)
    if warehouse.exists():
        import duckdb

        try:
            with duckdb.connect(str(warehouse)) as con:
                record_alerts(con, as_of, sent, delivery)
        except Exception as exc:  # the warehouse may be what failed, or another night holds it
            cause = make_safe(first_line(exc), secrets_of(config))
            warn(f"meta.alerts not updated / không ghi được meta.alerts: {cause}")
    return sent[0]


def notify_failed_result(as_of: dt.date | None, result, warehouse: Path | None = None) -> Alert | None:
    """`notify_failed_night` for the result of `execute_in_process` (what the CLI calls after a failed night)."""
    from dagster import DagsterEventType

    failures = failures_from_events(result.get_step_failure_events())
    message = ""
    for event in result.all_events:
        if event.event_type == DagsterEventType.RUN_FAILURE:
            message = first_line(event.message or "")
    return notify_failed_night(as_of, result.run_id, failures, message, warehouse=warehouse)
