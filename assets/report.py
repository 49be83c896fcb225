"""The stewards' report as a Dagster asset, downstream of the marts and the quality gates.

The work is in `assets/reporting/`; `build_report(warehouse, as_of, out_dir, masked=True) -> Path` is the
plain function the CLI calls. Metadata: counts and the path of the index only — never a name or an ID.
"""

import dagster as dg

from assets.night import NightNotReady, check_night
from assets.partitions import NIGHTS, ONE_NIGHT_PER_RUN, night_of
from assets.quality import GATES_KEY
from assets.reporting.build import build, build_report
from assets.resources import WarehouseResource
from expectations.gx.gates import gx_root_for

__all__ = ["ReportConfig", "build_report", "stewards_report"]

REPORT_KEY = dg.AssetKey(["report", "stewards_report"])


class ReportConfig(dg.Config):
    """How to build the report: masked (default) or, for an entitled reader only, unmasked."""

    masked: bool = True
    out_dir: str = ""  # the reports folder; default `<warehouse folder>/reports`


@dg.asset(
    key=REPORT_KEY,
    group_name="report",
    deps=[
        GATES_KEY,
        dg.AssetKey(["marts", "fct_reconciliation"]),
        dg.AssetKey(["marts", "fct_findings"]),
        dg.AssetKey(["marts", "fct_indicators"]),
        dg.AssetKey(["marts", "fct_finding_changes"]),
    ],
    kinds={"html", "plotly"},
    partitions_def=NIGHTS,
    backfill_policy=ONE_NIGHT_PER_RUN,
    description="The stewards' report of the night: static HTML under <reports>/<as_of>/ (Vietnamese, "
    "English "
    "switch), indicators, four criteria, trends, communes and their exception lists as CSV/XLSX.",
)
def stewards_report(
    context: dg.AssetExecutionContext,
    config: ReportConfig,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Build the report of the night from the marts (names from staging, masked unless configured)."""
    as_of = night_of(context)
    path = warehouse.resolved_path()
    try:
        check_night(path, as_of)
    except NightNotReady as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    out_dir = config.out_dir or str(path.parent / "reports")
    root = gx_root_for(path)
    summary = build(path, as_of, out_dir, masked=config.masked, gx_root=root if root.exists() else None)
    context.log.info(f"report of {as_of}: {summary.communes} communes, {summary.files} files")
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(summary.index)),
            "masked": dg.MetadataValue.bool(config.masked),
            "communes": dg.MetadataValue.int(summary.communes),
            "findings_listed": dg.MetadataValue.int(summary.findings),
            "files": dg.MetadataValue.int(summary.files),
        }
    )
