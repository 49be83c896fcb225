"""The nightly job: the whole flow, one run per night (its partitions come from the assets: NIGHTS), in one
process (one DuckDB writer)."""

import dagster as dg

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Extract what changed in every source, reconcile, check and report one night (its partition).",
)
