"""The nightly job: the whole flow, one run per night, in one process (DuckDB has one writer at a time)."""

import dagster as dg

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Extract every source, reconcile, check and report one night (DOISOAT_AS_OF).",
)
