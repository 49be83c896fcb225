"""Broken sources fail with a message naming source, table and column; bad rows go to quarantine."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import duckdb
import pytest

from assets.ingest import SourceError, ingest_table
from expectations.contracts import CONTRACTS

AS_OF = dt.date(2026, 11, 25)
PAYMENT = next(c for c in CONTRACTS if c.source == "social" and c.table == "PAYMENT")
CITIZEN = next(c for c in CONTRACTS if c.source == "population" and c.table == "citizen")


def _payment_db(path: Path, rows: list[tuple], columns: str | None = None) -> str:
    con = sqlite3.connect(path)
    con.execute(
        "create table PAYMENT ("
        + (
            columns
            or "PAYMENT_ID INTEGER, BENEFICIARY_ID INTEGER, PERIOD VARCHAR, AMOUNT INTEGER, "
            "METHOD VARCHAR, PAID_AT DATE"
        )
        + ")"
    )
    if rows:
        con.executemany(f"insert into PAYMENT values ({','.join('?' * len(rows[0]))})", rows)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


@pytest.fixture
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield con
    con.close()


def test_bad_rows_are_quarantined_with_reason_and_the_rest_loads(tmp_path, warehouse):
    rows = [
        (1, 10, "202601", 500000, "CASH", "2026-01-05"),
        (2, "x", "202601", 500000, "CASH", "2026-01-05"),  # wrong type in an INTEGER column
        (3, 12, "202601", 500000, "ACCOUNT", "2026-02-30"),  # not a date
        (1, 13, "202601", 500000, "CASH", "2026-01-05"),  # duplicate key
        (None, 14, "202601", 500000, "CASH", None),  # empty key
        (6, None, None, None, None, None),  # NULLs are fine in non-key columns
    ] + [(100 + i, i, "202602", 1, "CASH", "2026-02-01") for i in range(20)]
    url = _payment_db(tmp_path / "social.sqlite", rows)
    stats = ingest_table(warehouse, "social", url, PAYMENT, AS_OF, batch_rows=7)
    assert stats.rows_read == len(rows)
    # rows with a sound key load (their bad values as NULL); rows with an empty or repeated key cannot
    assert (stats.rows_loaded, stats.rows_rejected, stats.rows_quarantined, stats.values_nulled) == (24, 2, 4, 2)
    loaded = warehouse.execute("select payment_id, beneficiary_id, paid_at from raw.social__payment").fetchall()
    assert sorted(int(r[0]) for r in loaded) == sorted([1, 2, 3, 6] + [100 + i for i in range(20)])
    by_id = {int(r[0]): r for r in loaded}
    assert by_id[2][1] is None and by_id[3][2] is None  # only the bad value is dropped
    assert by_id[1][1] == "10"  # the first row of a repeated key keeps it
    quarantine = warehouse.execute(
        "select coalesce(record_key, '<null>'), column_name, reason, disposition, source_record_id"
        " from raw._quarantine where table_name = 'PAYMENT'"
    ).fetchall()
    by_key = {r[0]: r[1:] for r in quarantine}
    assert by_key["2"] == ("beneficiary_id", "beneficiary_id: not an integer", "loaded", "2")
    assert by_key["3"] == ("paid_at", "paid_at: not a date (YYYY-MM-DD)", "loaded", "3")
    assert by_key["1"] == ("payment_id", "payment_id: duplicate key", "rejected", "1#2")
    assert by_key["<null>"] == ("payment_id", "payment_id: key is empty", "rejected", "#1")
    # the quarantine keeps the key and the bad values only, not the whole row
    row = json.loads(warehouse.execute("select row_json from raw._quarantine where record_key = '2'").fetchone()[0])
    assert row == {"payment_id": "2", "beneficiary_id": "x"}
    # every raw row carries the night and the extraction time
    assert (
        warehouse.execute(
            "select count(*) from raw.social__payment where _as_of = ? and _extracted_at is not null", [AS_OF]
        ).fetchone()[0]
        == stats.rows_loaded
    )


def test_rejected_record_ids_are_unique_and_never_a_real_key(tmp_path, warehouse):
    rows = [(1, 1, "p", 1, "CASH", None), ("1#2", 1, "p", 1, "CASH", None), (" 1 ", 1, "p", 1, "CASH", None)]
    rows += [(1, 2, "p", 1, "CASH", None), ("  ", 3, "p", 1, "CASH", None), ("#1", 4, "p", 1, "CASH", None)]
    url = _payment_db(
        tmp_path / "s.sqlite",
        rows,
        "PAYMENT_ID VARCHAR, BENEFICIARY_ID INTEGER, PERIOD VARCHAR, AMOUNT INTEGER, METHOD VARCHAR, PAID_AT DATE",
    )
    stats = ingest_table(warehouse, "social", url, PAYMENT, AS_OF, max_quarantine_share=1.0)
    ids = [
        r[0]
        for r in warehouse.execute(
            "select trim(payment_id) from raw.social__payment union all"
            " select source_record_id from raw._quarantine where disposition = 'rejected'"
        ).fetchall()
    ]
    assert len(ids) == len(set(ids)) == len(rows) == stats.rows_read
    # " 1 " and the second 1 repeat key 1 (keys compare trimmed); "1#2" is a real key (not an integer: rejected)
    rejected = dict(
        warehouse.execute(
            "select source_record_id, reason from raw._quarantine where disposition = 'rejected'"
        ).fetchall()
    )
    assert set(rejected) == {"1#2", "1#2#", "1#3", "#1#", "#1"}
    assert rejected["1#3"] == "payment_id: duplicate key"
    assert rejected["#1#"].startswith("payment_id: key is empty")


def test_duplicate_key_across_batches_is_quarantined(tmp_path, warehouse):
    rows = [(i, i, "202601", 1, "CASH", "2026-01-01") for i in range(10)] + [(3, 3, "202601", 1, "CASH", None)]
    url = _payment_db(tmp_path / "s.sqlite", rows)
    stats = ingest_table(warehouse, "social", url, PAYMENT, AS_OF, batch_rows=4)
    assert (stats.rows_loaded, stats.rows_quarantined) == (10, 1)


def test_rerunning_a_night_replaces_its_quarantine(tmp_path, warehouse):
    url = _payment_db(tmp_path / "s.sqlite", [(1, "x", "202601", 1, "CASH", None), (2, 2, "p", 1, "CASH", None)])
    ingest_table(warehouse, "social", url, PAYMENT, AS_OF)
    ingest_table(warehouse, "social", url, PAYMENT, AS_OF)
    assert warehouse.execute("select count(*) from raw._quarantine").fetchone()[0] == 1
    assert warehouse.execute("select count(*) from raw.social__payment").fetchone()[0] == 2


def test_a_column_of_the_wrong_type_fails_the_table(tmp_path, warehouse):
    rows = [(i, i, "202601", 1, "CASH", "05/01/2026") for i in range(10)]
    url = _payment_db(tmp_path / "s.sqlite", rows)
    with pytest.raises(SourceError, match=r"source social .* table PAYMENT: 10 of 10 rows .*paid_at: not a date"):
        ingest_table(warehouse, "social", url, PAYMENT, AS_OF)


def test_missing_column_is_named(tmp_path, warehouse):
    url = _payment_db(
        tmp_path / "s.sqlite", [], "PAYMENT_ID INTEGER, BENEFICIARY_ID INTEGER, PERIOD VARCHAR, METHOD VARCHAR"
    )
    with pytest.raises(
        SourceError, match=r"^source social \(sqlite:///.*\): table PAYMENT has no column AMOUNT, PAID_AT$"
    ):
        ingest_table(warehouse, "social", url, PAYMENT, AS_OF)


def test_missing_table_is_named(tmp_path, warehouse):
    url = _payment_db(tmp_path / "s.sqlite", [])
    with pytest.raises(SourceError, match=r"source population .*: table citizen is missing"):
        ingest_table(warehouse, "population", url, CITIZEN, AS_OF)


def test_corrupt_file(tmp_path, warehouse):
    path = tmp_path / "population.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(SourceError, match=r"source population .*cannot read the database: .*not a database"):
        ingest_table(warehouse, "population", f"sqlite:///{path}", CITIZEN, AS_OF)


def test_missing_file(tmp_path, warehouse):
    with pytest.raises(SourceError, match=r"source population .*database file not found"):
        ingest_table(warehouse, "population", f"sqlite:///{tmp_path}/nope.sqlite", CITIZEN, AS_OF)
    assert not (tmp_path / "nope.sqlite").exists()


def test_unreachable_server_names_source_without_credentials(warehouse):
    url = "postgresql+psycopg://steward:s3cret-pw@127.0.0.1:1/population?connect_timeout=2"
    with pytest.raises(SourceError) as info:
        ingest_table(warehouse, "population", url, CITIZEN, AS_OF)
    message = str(info.value)
    assert message.startswith("source population (postgresql+psycopg://steward:***@127.0.0.1:1/population")
    assert "cannot read the database" in message
    assert "s3cret-pw" not in message


def test_a_warehouse_from_before_the_history_is_taken_over(tmp_path, warehouse):
    # there, raw.<table> was a table replaced each night
    warehouse.execute("create schema raw")
    warehouse.execute("create table raw.social__payment as select 1 as payment_id")
    url = _payment_db(tmp_path / "s.sqlite", [(1, 1, "202601", 1, "CASH", None), (2, 2, "p", 1, "CASH", None)])
    assert ingest_table(warehouse, "social", url, PAYMENT, AS_OF).rows_total == 2
    assert warehouse.execute(
        "select table_type from information_schema.tables where table_schema = 'raw' and table_name = 'social__payment'"
    ).fetchone() == ("VIEW",)
