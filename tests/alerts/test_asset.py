"""The Dagster side: the partitioned `alerts` asset and the freshness checks on the raw assets, for one night."""

import datetime as dt
import json

import dagster as dg
import duckdb

from assets.alerts import alert_assets, alert_checks
from assets.alerts.definitions import FRESHNESS_CHECK
from assets.partitions import NIGHTS
from assets.resources import WarehouseResource
from expectations.contracts import CONTRACTS
from tests.alerts.conftest import NIGHT, alert_files_text, assert_no_personal_data

BEFORE = NIGHT - dt.timedelta(days=1)
MIDNIGHT = dt.datetime.combine(NIGHT, dt.time())


def _raw_stand_ins() -> list[dg.AssetsDefinition]:
    """The raw assets with an update column, partitioned by night, doing nothing (ingestion is not tested here)."""
    stand_ins = []
    for contract in CONTRACTS:
        if contract.update_column:

            @dg.asset(key=dg.AssetKey(["raw", contract.raw_name]), partitions_def=NIGHTS, name=None)
            def _stand_in() -> None:
                return None

            stand_ins.append(_stand_in)
    return stand_ins


def test_alerts_asset_and_freshness_checks_for_one_night(warehouse, alert_env):
    w = warehouse
    for night in (BEFORE, NIGHT):
        w.night(night)
        w.indicator(night, "vaccination_clean", 80.0 if night == BEFORE else 70.0)
        w.findings(night, "00004", 3)
        for contract in CONTRACTS:
            age = 100 if contract.source == "social" else 6  # social stopped changing four days ago
            stale = night == NIGHT and contract.source == "children"
            w.extraction(
                night, contract.source, contract.table,
                status="stale" if stale else "ok", state_as_of=BEFORE if stale else night,
                error="source children: cannot open the database file" if stale else None,
                newest_update=(MIDNIGHT - dt.timedelta(hours=age)) if contract.update_column else None,
            )  # fmt: skip
    w.close()
    resources = {"warehouse": WarehouseResource(path=str(w.path))}
    result = dg.materialize(
        [*_raw_stand_ins(), *alert_assets, *alert_checks], partition_key=NIGHT.isoformat(), resources=resources
    )
    assert result.success
    checks = {(e.asset_key.path[1], e.check_name): e for e in result.get_asset_check_evaluations()}
    assert {name for _, name in checks} == {FRESHNESS_CHECK}
    assert {table for table, _ in checks} == {c.raw_name for c in CONTRACTS if c.update_column}
    failed = {table for (table, _), e in checks.items() if not e.passed}
    assert failed == {"social__beneficiary"}
    social = checks[("social__beneficiary", FRESHNESS_CHECK)]
    assert social.severity == dg.AssetCheckSeverity.WARN
    assert social.metadata["age_hours"].value == 100.0 and social.metadata["window_hours"].value == 48.0

    [materialisation] = result.asset_materializations_for_node("alerts")
    metadata = {key: value.value for key, value in materialisation.metadata.items()}
    assert metadata["as_of"] == NIGHT.isoformat()
    assert metadata["kind/source_unreachable"] == 1 and metadata["kind/source_stale"] == 1
    assert metadata["kind/indicator_drop"] == 1 and metadata["alerts"] == 3 and metadata["errors"] == 1
    assert metadata["sent_via"] == "file" and metadata["channels_failed"] == 0
    with duckdb.connect(str(w.path), read_only=True) as con:
        recorded = con.execute("select as_of, kind, sent_via from meta.alerts order by kind").fetchall()
    assert recorded == [
        (NIGHT, "indicator_drop", "file"),
        (NIGHT, "source_stale", "file"),
        (NIGHT, "source_unreachable", "file"),
    ]
    sent = [json.loads(line) for line in (alert_env / f"{NIGHT}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [a["kind"] for a in sent] == ["source_unreachable", "source_stale", "indicator_drop"]
    assert_no_personal_data(alert_files_text(alert_env), json.dumps(metadata, ensure_ascii=False))
