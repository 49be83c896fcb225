"""The night as a Dagster partition: one daily partition per night, in Asia/Ho_Chi_Minh.

The partition key (`YYYY-MM-DD`) is the night's only source, from the schedule or the CLI's `--as-of` to dbt's
`as_of` var. Nights start at `DOISOAT_FIRST_NIGHT` (default 2025-07-01, the administrative reform: the master
carries post-reform commune codes) and end today (`end_offset=1`: tonight's partition exists at 00:30).
"""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

TIMEZONE = "Asia/Ho_Chi_Minh"
FIRST_NIGHT = os.environ.get("DOISOAT_FIRST_NIGHT") or "2025-07-01"

NIGHTS = dg.DailyPartitionsDefinition(start_date=FIRST_NIGHT, timezone=TIMEZONE, end_offset=1)


def night_of(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> dt.date:
    """The night an asset runs for: its run's partition key."""
    return dt.date.fromisoformat(context.partition_key)


# A backfill runs night after night, one run per night (each night reads the one before it).
ONE_NIGHT_PER_RUN = dg.BackfillPolicy.multi_run(1)
