"""Alerts: a failed night is reported with the failing step and its root cause, never with data or credentials.

The run-failure sensor fires for runs the Dagster daemon sees (schedule, UI); the CLI runs nights in process,
where sensors do not fire, and calls `assets.alerts.notify_failed_night` itself. Both send the same alert, once
per run (the first to send claims the run).
"""

import datetime as dt

import dagster as dg

from assets.alerts import failures_from_events, notify_failed_night
from assets.night import configured_urls, scrub
from orchestration.jobs import nightly_job

PARTITION_TAG = "dagster/partition"


def failure_message(run_id: str, failures: list[tuple[str, str]], run_message: str) -> str:
    """One line per failed step: the step and the first line of its root cause (credentials scrubbed)."""
    if not failures:
        return scrub(f"doisoat night {run_id} failed: {run_message}", configured_urls())
    lines = [f"doisoat night {run_id} failed in {', '.join(step for step, _ in failures)}"]
    lines += [f"{step}: {cause}" for step, cause in failures]
    return scrub("\n".join(lines), configured_urls())


def run_night(tags: dict[str, str]) -> dt.date | None:
    """The night a run was for: its partition (or the CLI's `as_of` tag); None when it has neither."""
    value = tags.get(PARTITION_TAG) or tags.get("as_of")
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dg.run_failure_sensor(monitored_jobs=[nightly_job], default_status=dg.DefaultSensorStatus.RUNNING)
def nightly_failure_alert(context: dg.RunFailureSensorContext) -> None:
    failures = failures_from_events(context.get_step_failure_events())
    first = (context.failure_event.message or "").strip().splitlines()
    run = context.dagster_run
    message = first[0] if first else ""
    context.log.error(failure_message(run.run_id, failures, message))
    notify_failed_night(
        run_night(run.tags), run.run_id, failures, scrub(message, configured_urls()), log=context.log.warning
    )
