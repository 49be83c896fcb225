"""Every night at 00:30 in Asia/Ho_Chi_Minh, reconcile that day's night (its partition)."""

from zoneinfo import ZoneInfo

import dagster as dg

from assets.partitions import TIMEZONE
from orchestration.jobs import nightly_job


@dg.schedule(
    job=nightly_job,
    cron_schedule="30 0 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """The run of the night that starts at this tick: partition = the tick's date in Asia/Ho_Chi_Minh."""
    night = context.scheduled_execution_time.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
    return dg.RunRequest(run_key=night, partition_key=night)
