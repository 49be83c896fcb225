"""Every night at 00:30 in Asia/Ho_Chi_Minh, reconcile as of that day."""

import dagster as dg

from orchestration.jobs import nightly_job
from orchestration.resources import TIMEZONE


@dg.schedule(
    job=nightly_job,
    cron_schedule="30 0 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    as_of = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(
        run_key=as_of,
        run_config={"resources": {"night": {"config": {"as_of": as_of}}}},
        tags={"as_of": as_of},
    )
