"""The one Dagster code location of doisoat."""

import dagster as dg

from assets.alerts import alert_assets, alert_checks
from assets.dbt import DBT_EXECUTABLE, NightDbtResource, dbt_project, dbt_reconciliation, dbt_staging
from assets.ingest import ingest_assets
from assets.linkage import linkage_probabilistic
from assets.quality import gx_checks, gx_gates
from assets.report import stewards_report
from assets.resources import SourcesResource, WarehouseResource
from assets.writeback import enrichment_files
from orchestration.jobs import nightly_job
from orchestration.schedules import nightly_schedule
from orchestration.sensors import nightly_failure_alert

defs = dg.Definitions(
    assets=[
        *ingest_assets,
        dbt_staging,
        linkage_probabilistic,
        dbt_reconciliation,
        gx_gates,
        stewards_report,
        enrichment_files,
        *alert_assets,
    ],
    asset_checks=[gx_checks, *alert_checks],
    jobs=[nightly_job],
    # Every run in one process, the UI's ad-hoc materialisations too: one DuckDB writer, and the warehouse
    # resource (which holds the night's lock) lives as long as the run.
    executor=dg.in_process_executor,
    schedules=[nightly_schedule],
    sensors=[nightly_failure_alert],
    resources={
        "warehouse": WarehouseResource(),
        "sources": SourcesResource(),
        "dbt": NightDbtResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    },
)
