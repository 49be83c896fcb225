"""Tonight's rows are compared with the current versions by value: every change of a value is a new version
(NULL, '' and 'null' apart), an unchanged row is not, and the stored `_hash` stays the md5 of the stored values
where dbt's staging reads it (versioned tables) or a keyless row's key is built from it; NULL elsewhere."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import duckdb
import pytest

from assets.history import hash_sql
from assets.ingest import ingest_table
from assets.night import ensure_status_table
from expectations.contracts import CONTRACTS

N1, N2, N3 = (dt.date(2026, 11, 25) + dt.timedelta(days=i) for i in range(3))
PAYMENT = next(c for c in CONTRACTS if c.table == "PAYMENT")
PASSPORT = next(c for c in CONTRACTS if c.table == "ho_chieu_vac_xin")
CHILD = next(c for c in CONTRACTS if c.table == "tre_em")


def _db(path: Path, table: str, columns: list[str], rows: list[tuple]) -> str:
    with sqlite3.connect(path) as con:
        con.execute(f"drop table if exists {table}")
        con.execute(f"create table {table} ({', '.join(columns)})")
        con.executemany(f"insert into {table} values ({', '.join('?' * len(columns))})", rows)
    return f"sqlite:///{path}"


def _night(con, url, contract, night):
    stats = ingest_table(con, contract.source, url, contract, night)
    ensure_status_table(con)
    con.execute("insert or replace into meta.night_status (as_of, run_id, status) values (?, 't', 'complete')", [night])
    return stats


def _hashes_match_values(con, contract) -> bool:
    """Every version's `_hash` is the md5 of its values (versioned or keyless tables), or NULL (other tables)."""
    if contract.row_hashed:
        wrong = f"_hash is distinct from {hash_sql(contract.raw_columns)}"
    else:
        wrong = "_hash is not null"
    return not con.execute(f"select count(*) from history.{contract.raw_name} where {wrong}").fetchone()[0]


def test_the_tables_hashed_are_those_dbt_staging_versions():
    """`versioned` contracts are exactly the sources of the `<model>_versions` models (their `_hash` is read)."""
    import re

    models = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging"
    read = set()
    for path in models.glob("*/*_versions.sql"):
        read |= {(s, t.lower()) for s, t in re.findall(r"source\('(\w+)', '(\w+)'\)", path.read_text())}
    assert read, "no versions model found"
    assert read == {(c.source, c.table.lower()) for c in CONTRACTS if c.versioned}
    assert not PAYMENT.versioned and CHILD.versioned


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def test_null_empty_and_the_text_null_are_different_values(tmp_path, con):
    columns = [n for n, _ in PAYMENT.columns]
    path = tmp_path / "social.sqlite"
    base = [(1, 1, "202601", 10, None, None), (2, 2, "202601", 10, "", None), (3, 3, "202601", 10, "null", None),
            (4, 4, "202601", 10, "CASH", "2026-01-05")]  # fmt: skip
    url = _db(path, "PAYMENT", columns, base)
    _night(con, url, PAYMENT, N1)
    # 1: NULL -> '', 2: '' -> 'null', 3: 'null' -> NULL, 4 unchanged (a NULL elsewhere in its row)
    _db(path, "PAYMENT", columns, [(1, 1, "202601", 10, "", None), (2, 2, "202601", 10, "null", None),
                                   (3, 3, "202601", 10, None, None), base[3]])  # fmt: skip
    stats = _night(con, url, PAYMENT, N2)
    assert (stats.rows_updated, stats.rows_inserted, stats.rows_deleted) == (3, 0, 0)
    closed = con.execute(
        "select payment_id from history.social__payment where _closed = 'update' order by 1"
    ).fetchall()
    assert closed == [("1",), ("2",), ("3",)]
    assert con.execute("select method from raw.social__payment where payment_id = '3'").fetchone() == (None,)
    assert _hashes_match_values(con, PAYMENT)
    stats = _night(con, url, PAYMENT, N3)  # nothing changed: no new version
    assert (stats.rows_updated, stats.rows_inserted, stats.rows_deleted) == (0, 0, 0)


def test_repeated_rows_of_a_table_without_key_keep_their_keys(tmp_path, con):
    columns = [n for n, _ in PASSPORT.columns]
    path = tmp_path / "vaccination.sqlite"
    url = _db(path, "ho_chieu_vac_xin", columns, [("A", None), ("A", None), ("B", "2026-01-01"), (None, None)])
    _night(con, url, PASSPORT, N1)
    keys1 = dict(
        con.execute("select _key, coalesce(ma_doi_tuong, '-') from history.vaccination__ho_chieu_vac_xin").fetchall()
    )
    assert sorted(k.split("#")[1] for k in keys1) == ["1", "1", "1", "2"]
    # one of the two A rows goes, B comes twice, the all-NULL row stays
    _db(path, "ho_chieu_vac_xin", columns, [(None, None), ("B", "2026-01-01"), ("A", None), ("B", "2026-01-01")])
    stats = _night(con, url, PASSPORT, N2)
    assert (stats.rows_inserted, stats.rows_deleted, stats.rows_updated) == (1, 1, 0)
    gone = con.execute("select _key from history.vaccination__ho_chieu_vac_xin where _closed = 'delete'").fetchall()
    assert [keys1[k] for (k,) in gone] == ["A"] and gone[0][0].endswith("#2")
    new = con.execute("select _key from history.vaccination__ho_chieu_vac_xin where _valid_from = ?", [N2]).fetchall()
    assert len(new) == 1 and new[0][0].endswith("#2")
    assert con.execute("select count(*) from raw.vaccination__ho_chieu_vac_xin").fetchone()[0] == 4
    assert _hashes_match_values(con, PASSPORT)
    # every key is the row's hash and its repeat, as the history always wrote it
    assert not con.execute(
        "select count(*) from history.vaccination__ho_chieu_vac_xin where split_part(_key, '#', 1) <> _hash"
    ).fetchone()[0]


def test_incremental_night_closes_gone_and_rejected_keys_and_rereads_rewritten_ones(tmp_path, con):
    columns = [n for n, _ in CHILD.columns]
    path = tmp_path / "children.sqlite"

    def row(key, name, updated="2026-11-20 00:00:00"):
        return (key, name, None, None, None, None, None, None, None, None, None, updated)

    url = _db(path, "tre_em", columns, [row(f"T{i}", f"n{i}") for i in range(6)])
    _night(con, url, CHILD, N1)
    # T0 deleted; T1 repeated (its second row rejected, the first unchanged); T2's key text rewritten with spaces
    # and an old update value (read again through the key scan: a new version of the same trimmed key); T3
    # updated; T4's key emptied (rejected: its version closes)
    rows = [row("T1", "n1"), row("T1", "x", "2026-11-26 00:00:00"), row(" T2 ", "n2"),
            row("T3", "n3b", "2026-11-25 08:00:00"), row("  ", "n4"), row("T5", "n5")]  # fmt: skip
    _db(path, "tre_em", columns, rows)
    stats = _night(con, url, CHILD, N2)
    assert stats.mode == "incremental"
    state = dict(con.execute("select ma_tre, ho_va_ten from raw.children__tre_em").fetchall())
    assert state == {"T1": "n1", " T2 ": "n2", "T3": "n3b", "T5": "n5"}
    closed = dict(
        con.execute("select _key, _closed from history.children__tre_em where _closed is not null").fetchall()
    )
    assert closed == {"T0": "delete", "T2": "update", "T3": "update", "T4": "delete"}
    rejected = con.execute(
        "select source_record_id from raw._quarantine where disposition = 'rejected' and _as_of = ? order by 1",
        [N2],
    ).fetchall()
    assert rejected == [("#1",), ("T1#2",)]
    assert _hashes_match_values(con, CHILD)
