"""Alerts: a failed night is reported with the failing step and its root cause, never with data or credentials."""

import dagster as dg

from assets.night import configured_urls, root_cause, scrub
from orchestration.jobs import nightly_job


def failure_message(run_id: str, failures: list[tuple[str, str]], run_message: str) -> str:
    """One line per failed step: the step and the first line of its root cause (credentials scrubbed)."""
    if not failures:
        return scrub(f"doisoat night {run_id} failed: {run_message}", configured_urls())
    lines = [f"doisoat night {run_id} failed in {', '.join(step for step, _ in failures)}"]
    lines += [f"{step}: {cause}" for step, cause in failures]
    return scrub("\n".join(lines), configured_urls())


@dg.run_failure_sensor(monitored_jobs=[nightly_job], default_status=dg.DefaultSensorStatus.RUNNING)
def nightly_failure_alert(context: dg.RunFailureSensorContext) -> None:
    failures = [
        (event.step_key or "the run", root_cause(event.step_failure_data.error) if event.step_failure_data else "")
        for event in context.get_step_failure_events()
    ]
    first = (context.failure_event.message or "").strip().splitlines()
    context.log.error(failure_message(context.dagster_run.run_id, failures, first[0] if first else ""))
