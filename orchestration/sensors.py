"""Alerts: a failed night is reported with the failing step (which names the source), never with data."""

import dagster as dg

from orchestration.jobs import nightly_job


@dg.run_failure_sensor(monitored_jobs=[nightly_job], default_status=dg.DefaultSensorStatus.RUNNING)
def nightly_failure_alert(context: dg.RunFailureSensorContext) -> None:
    steps = [event.step_key for event in context.get_step_failure_events()]
    context.log.error(
        f"doisoat night {context.dagster_run.run_id} failed in {', '.join(steps) or 'the run'}: "
        f"{context.failure_event.message}"
    )
