"""The Dagster side: the night's `alerts` asset and the freshness checks on the raw assets.

Freshness is the source's, not the night's: Dagster's `build_last_update_freshness_checks` measures the time of
the last materialisation (the night's own run, fresh every night even when the source stopped changing) against
the wall clock (a rerun of an old night would fail). These checks read instead the newest value of each table's
update column (`meta.extractions.newest_update`, SOURCES.md) and measure its age at the night being run.
"""

import dagster as dg

from assets.alerts.channels import dispatch
from assets.alerts.config import load_config_or_default
from assets.alerts.model import config_alert
from assets.alerts.record import record_alerts
from assets.alerts.rules import evaluate as evaluate_rules
from assets.alerts.rules import freshness_rows, night_reference
from assets.partitions import NIGHTS, night_of
from assets.resources import WarehouseResource, table_exists
from expectations.contracts import CONTRACTS, TableContract

ALERTS_KEY = dg.AssetKey(["alerts"])
MART_DEPS = (dg.AssetKey(["marts", "fct_indicators"]), dg.AssetKey(["marts", "fct_findings"]))
FRESHNESS_CHECK = "source_fresh"


@dg.asset(
    key=ALERTS_KEY,
    partitions_def=NIGHTS,
    deps=list(MART_DEPS),
    group_name="alerts",
    kinds={"duckdb", "python"},
    description="Evaluates the night's alert rules (source unreachable or stale, an indicator falling, a "
    "quarantine jump, values far outside their recent range), sends them (file; e-mail and webhook when "
    "configured) and records them in `meta.alerts`.",
)
def alerts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    as_of = night_of(context)
    config, problem = load_config_or_default(warehouse=warehouse.resolved_path())
    con = warehouse.connect()
    try:
        found = ([config_alert(problem)] if problem else []) + evaluate_rules(con, as_of, config)
        sent, delivery = dispatch(found, as_of, config, context.log.warning)
        record_alerts(con, as_of, sent, delivery)
    finally:
        con.close()
    kinds: dict[str, int] = {}
    for alert in sent:
        kinds[alert.kind] = kinds.get(alert.kind, 0) + 1
    context.log.info(f"night {as_of}: {len(sent)} alert(s) sent via {', '.join(delivery.sent_via) or 'none'}")
    return dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat(),
            "alerts": len(sent),
            "errors": sum(1 for a in sent if a.severity == "error"),
            "warnings": sum(1 for a in sent if a.severity == "warning"),
            **{f"kind/{kind}": count for kind, count in sorted(kinds.items())},
            "sent_via": ", ".join(delivery.sent_via) or "none",
            "channels_failed": len(delivery.failures),
        }
    )


def _freshness_check(contract: TableContract) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(["raw", contract.raw_name])

    @dg.asset_check(
        asset=key,
        name=FRESHNESS_CHECK,
        partitions_def=NIGHTS,
        description=f"The newest `{contract.update_column}` of `{contract.source}.{contract.table}` is within "
        f"DOISOAT_{contract.source.upper()}_FRESHNESS_HOURS (default 48) of the night (warning: the source "
        "stopped changing).",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        as_of = night_of(context)
        config, _ = load_config_or_default(warehouse=warehouse.resolved_path())
        con = warehouse.connect()
        try:
            rows = [
                row
                for row in freshness_rows(con, as_of, config.freshness_hours)
                if row.source == contract.source and row.table_name.lower() == contract.table.lower()
            ]
            logged = table_exists(con, "meta", "extractions")
        finally:
            con.close()
        window = config.freshness_hours.get(contract.source, 48.0)
        if not rows:
            reason = "no newest update in meta.extractions for this night" if logged else "no meta.extractions"
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"freshness not measurable: {reason}",
                metadata={"as_of": as_of.isoformat(), "window_hours": window},
            )
        row = rows[0]
        return dg.AssetCheckResult(
            passed=row.fresh,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"newest update {row.age_hours:.1f} h before the night"
                f" ({'within' if row.fresh else 'older than'} {window:g} h)"
            ),
            metadata={
                "as_of": as_of.isoformat(),
                "newest_update": row.newest_update.isoformat(sep=" "),
                "measured_from": night_reference(as_of).isoformat(sep=" "),
                "age_hours": dg.FloatMetadataValue(round(row.age_hours, 2)),
                "window_hours": dg.FloatMetadataValue(window),
                "extraction_status": row.status or "",
            },
        )

    return _check


alert_assets: list[dg.AssetsDefinition] = [alerts]
alert_checks: list[dg.AssetChecksDefinition] = [_freshness_check(c) for c in CONTRACTS if c.update_column]
