"""A sector source down uses its last committed state, marked stale; the population master down stops the night."""

from __future__ import annotations

import datetime as dt
import sqlite3

import dagster as dg
import duckdb
import pytest

from assets.history import NightOrderError
from assets.ingest import SourceError, SourceUnreachable, ingest_assets, ingest_table
from assets.night import ensure_status_table
from assets.resources import SourcesResource, WarehouseResource
from expectations.contracts import CONTRACTS

PAYMENT = next(c for c in CONTRACTS if c.table == "PAYMENT")
N1, N2 = dt.date(2026, 11, 25), dt.date(2026, 11, 26)


def _payment_db(path, columns: str = "AMOUNT INTEGER, METHOD VARCHAR, PAID_AT DATE") -> str:
    con = sqlite3.connect(path)
    con.execute(f"create table PAYMENT (PAYMENT_ID INTEGER, BENEFICIARY_ID INTEGER, PERIOD VARCHAR, {columns})")
    if "PAID_AT" in columns:
        con.executemany(
            "insert into PAYMENT values (?, ?, ?, ?, ?, ?)",
            [(1, "x", "202601", 1, "CASH", None), (None, 3, "p", 1, "CASH", None)]
            + [(i, i, "202601", 1, "CASH", None) for i in range(2, 5)],
        )
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def _first_night(tmp_path) -> str:
    """A warehouse with night 1 of the payments ingested and committed."""
    warehouse = str(tmp_path / "w.duckdb")
    con = duckdb.connect(warehouse)
    ingest_table(con, "social", _payment_db(tmp_path / "social.sqlite"), PAYMENT, N1)
    ensure_status_table(con)
    con.execute("insert into meta.night_status (as_of, run_id, status) values (?, 'r1', 'complete')", [N1])
    con.close()
    return warehouse


def test_an_unreachable_source_gives_its_last_committed_state_marked_stale(tmp_path):
    con = duckdb.connect(_first_night(tmp_path))
    missing = f"sqlite:///{tmp_path}/gone.sqlite"
    stats = ingest_table(con, "social", missing, PAYMENT, N2, stale_ok=True)
    assert (stats.mode, stats.state_as_of, stats.rows_total, stats.rows_rejected) == ("stale", N1, 4, 1)
    assert stats.error.startswith("source social (sqlite:///") and "database file not found" in stats.error
    row = con.execute(
        "select mode, status, state_as_of, error, rows_read, rows_total, rows_quarantined from meta.extractions"
        " where as_of = ?",
        [N2],
    ).fetchone()
    assert row[:3] == ("stale", "stale", N1) and row[3] == stats.error and "\n" not in row[3]
    assert row[4:] == (0, 4, 2)
    raw = con.execute("select payment_id, _as_of from raw.social__payment order by 1").fetchall()
    assert raw == [(str(i), N2) for i in range(1, 5)]
    # the night's quarantine is the state's: the bad value and the rejected row of night 1
    assert con.execute(
        "select count(*) from raw._quarantine where _as_of = ? and disposition = 'rejected'", [N2]
    ).fetchone() == (1,)
    # rerun while the source is still down: stale again (the night is after the last extracted one)
    again = ingest_table(con, "social", missing, PAYMENT, N2, stale_ok=True)
    assert (again.mode, again.state_as_of) == ("stale", N1)
    # once a later night is extracted, rerunning the stale night replays it and keeps it marked stale
    n3 = N2 + dt.timedelta(days=1)
    for night in (N2, n3):
        con.execute("insert into meta.night_status (as_of, run_id, status) values (?, 'r', 'complete')", [night])
    assert ingest_table(con, "social", f"sqlite:///{tmp_path}/social.sqlite", PAYMENT, n3).mode == "full"
    replay = ingest_table(con, "social", missing, PAYMENT, N2, stale_ok=True)
    assert (replay.mode, replay.state_as_of, replay.error) == ("replay", N1, stats.error)
    assert con.execute("select mode, status, error from meta.extractions where as_of = ?", [N2]).fetchone() == (
        "replay",
        "stale",
        stats.error,
    )


def test_nights_before_the_first_extraction_or_a_full_refresh_of_an_earlier_night_fail_in_one_line(tmp_path):
    con = duckdb.connect(_first_night(tmp_path))
    url = f"sqlite:///{tmp_path}/social.sqlite"
    before = N1 - dt.timedelta(days=1)
    with pytest.raises(NightOrderError, match=rf"^night {before} precedes the first extraction {N1}$"):
        ingest_table(con, "social", url, PAYMENT, before)
    with pytest.raises(NightOrderError, match=rf"^night {before} cannot be refreshed in full: night {N1} was"):
        ingest_table(con, "social", url, PAYMENT, before, full_refresh=True)


def test_without_a_committed_state_or_when_the_contract_breaks_the_table_fails(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    with pytest.raises(SourceUnreachable, match="database file not found"):
        ingest_table(con, "social", f"sqlite:///{tmp_path}/gone.sqlite", PAYMENT, N2, stale_ok=True)
    con.close()
    con = duckdb.connect(_first_night(tmp_path))
    broken = _payment_db(tmp_path / "broken.sqlite", "AMOUNT INTEGER")
    with pytest.raises(SourceError, match="has no column METHOD, PAID_AT") as info:
        ingest_table(con, "social", broken, PAYMENT, N2, stale_ok=True)
    assert not isinstance(info.value, SourceUnreachable)


def _materialize(
    raw_name: str, warehouse: str, sources: SourcesResource, night: dt.date = N2, tags: dict | None = None
) -> dg.ExecuteInProcessResult:
    asset = next(a for a in ingest_assets if a.key == dg.AssetKey(["raw", raw_name]))
    return dg.materialize(
        [asset],
        resources={"warehouse": WarehouseResource(path=warehouse), "sources": sources},
        partition_key=night.isoformat(),
        raise_on_error=False,
        tags=tags,
    )


def test_the_stale_asset_succeeds_with_a_failed_reachability_warning(tmp_path):
    warehouse = _first_night(tmp_path)
    # the run tag asks for a full refresh: the committed night 1 is extracted again rather than replayed
    refresh = _materialize(
        "social__payment", warehouse, SourcesResource(social=f"sqlite:///{tmp_path}/social.sqlite"), N1,
        {"doisoat/full_refresh": "true"},
    )  # fmt: skip
    assert refresh.asset_materializations_for_node("raw__social__payment")[0].metadata["mode"].value == "full"
    result = _materialize("social__payment", warehouse, SourcesResource(social=f"sqlite:///{tmp_path}/gone.sqlite"))
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["source_reachable"].passed
    assert checks["source_reachable"].severity == dg.AssetCheckSeverity.WARN
    metadata = result.asset_materializations_for_node("raw__social__payment")[0].metadata
    assert (metadata["mode"].value, metadata["state_as_of"].value) == ("stale", N1.isoformat())
    assert (metadata["rows_inserted"].value, metadata["rows_total"].value) == (0, 4)


def test_the_master_down_fails_with_one_line(tmp_path):
    missing = f"sqlite:///{tmp_path}/gone.sqlite"
    result = _materialize("population__citizen", str(tmp_path / "w.duckdb"), SourcesResource(population=missing))
    assert not result.success
    (failure,) = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("population master unreachable: nothing can be reconciled (source population")
    assert "database file not found" in description and "\n" not in description
