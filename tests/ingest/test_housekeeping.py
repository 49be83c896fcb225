"""Ingestion housekeeping: quarantine retention, the empty-table warning check, quarantine share in metadata."""

from __future__ import annotations

import datetime as dt
import sqlite3

import dagster as dg
import duckdb
import pytest

from assets.ingest import ingest_assets, ingest_table, quarantine_retention_nights
from assets.resources import SourcesResource, WarehouseResource
from expectations.contracts import CONTRACTS

PAYMENT = next(c for c in CONTRACTS if c.table == "PAYMENT")
AS_OF = dt.date(2026, 11, 25)


def _payment_db(path, rows) -> str:
    con = sqlite3.connect(path)
    con.execute(
        "create table PAYMENT (PAYMENT_ID INTEGER, BENEFICIARY_ID INTEGER, PERIOD VARCHAR, AMOUNT INTEGER,"
        " METHOD VARCHAR, PAID_AT DATE)"
    )
    con.executemany("insert into PAYMENT values (?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_quarantine_rows_older_than_the_retention_are_purged(tmp_path):
    url = _payment_db(tmp_path / "s.sqlite", [(1, "x", "p", 1, "CASH", None), (2, 2, "p", 1, "CASH", None)])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for night in (AS_OF - dt.timedelta(days=31), AS_OF - dt.timedelta(days=30), AS_OF):
        stats = ingest_table(con, "social", url, PAYMENT, night, retention_nights=30)
    nights = [r[0] for r in con.execute("select _as_of from raw._quarantine order by 1").fetchall()]
    assert nights == [AS_OF - dt.timedelta(days=30), AS_OF]
    assert stats.quarantine_purged == 1


def test_retention_is_configured_by_environment():
    assert quarantine_retention_nights({}) == 30
    assert quarantine_retention_nights({"DOISOAT_QUARANTINE_RETENTION_NIGHTS": "7"}) == 7
    with pytest.raises(ValueError, match="DOISOAT_QUARANTINE_RETENTION_NIGHTS"):
        quarantine_retention_nights({"DOISOAT_QUARANTINE_RETENTION_NIGHTS": "0"})


@pytest.mark.parametrize(
    ("rows", "passed"), [([], False), ([(1, 1, "p", 1, "CASH", None), (2, "x", "p", 1, "CASH", None)], True)]
)
def test_empty_source_table_is_a_warning_check_and_metadata_has_the_quarantine_share(tmp_path, rows, passed):
    url = _payment_db(tmp_path / "s.sqlite", rows)
    asset = next(a for a in ingest_assets if a.key == dg.AssetKey(["raw", "social__payment"]))
    result = dg.materialize(
        [asset],
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
            "sources": SourcesResource(social=url),
        },
        partition_key=AS_OF.isoformat(),
    )
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["source_table_not_empty"].passed is passed
    assert evaluations["source_table_not_empty"].severity == dg.AssetCheckSeverity.WARN
    assert evaluations["source_reachable"].passed
    metadata = result.asset_materializations_for_node(asset.op.name)[0].metadata
    assert metadata["quarantine_share"].value == (0.5 if rows else 0.0)
