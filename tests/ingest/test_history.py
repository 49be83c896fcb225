"""Nights over one changing tiny source set: history versions, incremental = full, replay, an interrupted night."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from assets.ingest import ingest_table
from assets.night import ensure_status_table
from expectations.contracts import CONTRACTS

N1, N2, N3, N4 = (dt.date(2026, 11, 25) + dt.timedelta(days=i) for i in range(4))
BY_NAME = {c.raw_name: c for c in CONTRACTS}


def _urls(directory: Path) -> dict[str, str]:
    return {c.source: f"sqlite:///{directory / f'{c.source}.sqlite'}" for c in CONTRACTS}


def _sql(directory: Path, source: str, *statements: str) -> None:
    with sqlite3.connect(directory / f"{source}.sqlite") as con:
        for statement in statements:
            con.execute(statement)


def _night(con, directory: Path, night: dt.date, contracts=CONTRACTS, **kwargs) -> dict:
    urls = _urls(directory)
    return {c.raw_name: ingest_table(con, c.source, urls[c.source], c, night, **kwargs) for c in contracts}


def _commit(con, night: dt.date) -> None:
    ensure_status_table(con)
    con.execute(
        "insert or replace into meta.night_status (as_of, run_id, status) values (?, 'test', 'complete')", [night]
    )


def _state(con, night: dt.date, with_times: bool = False) -> dict[str, str]:
    """Hash of the sorted rows of each raw view and of the night's quarantine rows (extraction times optional)."""
    times = ", _extracted_at" if with_times else ""
    out = {}
    for contract in CONTRACTS:
        rows = con.execute(f"select {', '.join(contract.raw_columns)}, _as_of{times} from raw.{contract.raw_name}")
        out[contract.raw_name] = hashlib.md5(repr(sorted(rows.fetchall(), key=repr)).encode()).hexdigest()
    quarantine = con.execute(
        "select source, table_name, record_key, column_name, reason, row_json, _as_of, source_record_id,"
        f" disposition{times} from raw._quarantine where _as_of = ?",
        [night],
    ).fetchall()
    out["_quarantine"] = hashlib.md5(repr(sorted(quarantine, key=repr)).encode()).hexdigest()
    return out


def _history(con) -> dict[str, list]:
    return {
        c.raw_name: sorted(
            con.execute(f"select * exclude (_extracted_at) from history.{c.raw_name}").fetchall(), key=repr
        )
        for c in CONTRACTS
    }


def _extractions(con, night: dt.date) -> dict[str, tuple]:
    rows = con.execute(
        "select source || '__' || lower(table_name), mode, status, state_as_of, rows_inserted, rows_updated,"
        " rows_deleted, rows_total, watermark from meta.extractions where as_of = ?",
        [night],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def nights(tiny_sources, tmp_path_factory):
    """Four nights over a copy of the tiny sources changed between nights; what each step saw."""
    work = tmp_path_factory.mktemp("history")
    src = work / "sources"
    shutil.copytree(tiny_sources, src, ignore=shutil.ignore_patterns("*.parquet"))
    con = duckdb.connect(str(work / "w.duckdb"))
    seen = {}
    seen["n1"] = _night(con, src, N1)
    _commit(con, N1)
    seen["state1"] = _state(con, N1, with_times=True)
    ids = [
        r[0] for r in sqlite3.connect(src / "population.sqlite").execute("select personal_id from citizen order by 1")
    ]
    seen["citizens"] = ids
    # M1: three citizens updated, one inserted; a payment changed and one deleted; a passport row replaced
    _sql(
        src,
        "population",
        f"update citizen set full_name = full_name || ' A', updated_at = '2026-11-25 09:00:00.000000'"
        f" where personal_id in ('{ids[0]}', '{ids[1]}', '{ids[2]}')",
        f"insert into citizen select '099999999999', full_name, birth_date, sex, ethnicity, commune_code,"
        f" household_id, relation_to_head, legacy_id9, father_id, mother_id, status, death_date,"
        f" '2026-11-25 09:30:00.000000' from citizen where personal_id = '{ids[5]}'",
    )
    _sql(
        src,
        "social",
        "update PAYMENT set AMOUNT = AMOUNT + 1 where PAYMENT_ID = (select min(PAYMENT_ID) from PAYMENT)",
        "delete from PAYMENT where PAYMENT_ID = (select max(PAYMENT_ID) from PAYMENT)",
    )
    _sql(
        src,
        "vaccination",
        "delete from ho_chieu_vac_xin where rowid = (select min(rowid) from ho_chieu_vac_xin)",
        "insert into ho_chieu_vac_xin values ('DT-NEW', '2026-11-25')",
    )
    seen["n2"] = _night(con, src, N2)
    _commit(con, N2)
    seen["state2"] = _state(con, N2, with_times=True)
    # M2: a citizen deleted, one with a bogus future update; children: an empty key, a repeated key and a new
    # row with an old update value (none is newer than the watermark); two clinic records updated
    _sql(
        src,
        "population",
        f"delete from citizen where personal_id = '{ids[9]}'",
        f"update citizen set full_name = full_name || ' F', updated_at = '2099-01-01 00:00:00'"
        f" where personal_id = '{ids[11]}'",
    )
    _sql(
        src,
        "children",
        "insert into tre_em (ma_tre, ho_va_ten, cap_nhat) values ('  ', 'x', '2020-01-01 00:00:00')",
        "insert into tre_em (ma_tre, ho_va_ten, cap_nhat) values (' TE00000002', 'x', '2020-01-01 00:00:00')",
        "insert into tre_em (ma_tre, ho_va_ten, cap_nhat) values ('TE99999999', 'x', '2020-01-01 00:00:00')",
        "insert into tre_em (ma_tre, ho_va_ten, ngay_sinh, cap_nhat) values ('TE99999998', 'x', '31/02/2020',"
        " '2020-01-01 00:00:00')",
    )
    _sql(
        src,
        "vaccination",
        "update doi_tuong set ho_ten = ho_ten || ' B', ngay_cap_nhat = '2026-11-26 08:00:00'"
        " where ma_doi_tuong in (select ma_doi_tuong from doi_tuong order by 1 limit 2)",
    )
    seen["n3"] = _night(con, src, N3)
    seen["state3_incremental"] = _state(con, N3)
    seen["history3"] = {
        "citizen": con.execute(
            "select personal_id, _valid_from, _valid_to, _closed from history.population__citizen"
            " where personal_id in (?, ?, ?, ?) order by 1, 2",
            [ids[0], ids[9], ids[11], "099999999999"],
        ).fetchall(),
        "extractions": {n: _extractions(con, n) for n in (N1, N2, N3)},
        "deleted_in_3": con.execute(
            "select count(*) from raw.population__citizen where personal_id = ?", [ids[9]]
        ).fetchone()[0],
    }
    _commit(con, N3)
    seen["n3_full"] = _night(con, src, N3, full_refresh=True)
    seen["state3_full"] = _state(con, N3)
    seen["extractions3_full"] = _extractions(con, N3)
    seen["n2_replay"] = _night(con, src, N2)
    seen["state2_replay"] = _state(con, N2, with_times=True)
    seen["deleted_in_2"] = con.execute(
        "select count(*) from raw.population__citizen where personal_id = ?", [ids[9]]
    ).fetchone()[0]
    seen["extractions2_replay"] = _extractions(con, N2)

    # Night 4 killed after some tables (never committed), the sources change, then rerun; the same night run
    # once on a copy of the warehouse taken before it is the reference.
    con.close()
    shutil.copy(work / "w.duckdb", work / "reference.duckdb")
    con = duckdb.connect(str(work / "w.duckdb"))
    with sqlite3.connect(src / "population.sqlite") as source:
        original = source.execute(
            "select full_name, updated_at from citizen where personal_id = ?", [ids[20]]
        ).fetchone()
    _sql(
        src,
        "population",
        "update citizen set full_name = 'Tạm', updated_at = '2026-11-27 10:00:00.000000'"
        f" where personal_id = '{ids[20]}'",
    )
    _sql(src, "children", "update tre_em set ho_va_ten = ho_va_ten || ' S' where ma_tre = 'TE00000003'")  # silent
    _night(con, src, N4, contracts=CONTRACTS[:5])
    with sqlite3.connect(src / "population.sqlite") as source:  # back as it was before the killed attempt
        source.execute("update citizen set full_name = ?, updated_at = ? where personal_id = ?", [*original, ids[20]])
    _sql(src, "social", "delete from PAYMENT where PAYMENT_ID = (select min(PAYMENT_ID) from PAYMENT)")
    seen["n4"] = _night(con, src, N4)
    seen["state4"], seen["history4"], seen["extractions4"] = _state(con, N4), _history(con), _extractions(con, N4)
    reference = duckdb.connect(str(work / "reference.duckdb"))
    _night(reference, src, N4)
    seen["state4_ref"], seen["history4_ref"] = _state(reference, N4), _history(reference)
    seen["extractions4_ref"] = _extractions(reference, N4)
    reference.close()
    silent = "select ho_va_ten from raw.children__tre_em where ma_tre = 'TE00000003'"
    seen["silent_incremental"] = con.execute(silent).fetchone()[0]
    _commit(con, N4)
    children = [c for c in CONTRACTS if c.source == "children"]
    seen["n4_full"] = _night(con, src, N4, contracts=children, full_refresh=True)
    seen["silent_full"] = con.execute(silent).fetchone()[0]
    con.close()
    return seen


def test_versions_and_extraction_log_follow_the_source_changes(nights):
    ids = nights["citizens"]
    rows = nights["history3"]["citizen"]
    # updated at night 2: two versions; deleted before night 3: closed as delete; inserted at night 2
    assert [r for r in rows if r[0] == ids[0]] == [(ids[0], N1, N2, "update"), (ids[0], N2, None, None)]
    assert [r for r in rows if r[0] == ids[9]] == [(ids[9], N1, N3, "delete")]
    assert [r for r in rows if r[0] == "099999999999"] == [("099999999999", N2, None, None)]
    assert [r for r in rows if r[0] == ids[11]] == [(ids[11], N1, N3, "update"), (ids[11], N3, None, None)]
    log = nights["history3"]["extractions"]
    assert {name: row[0] for name, row in log[N1].items()} == {c.raw_name: "full" for c in CONTRACTS}
    expected_modes = {c.raw_name: "incremental" if c.update_column else "full" for c in CONTRACTS}
    assert {name: row[0] for name, row in log[N2].items()} == expected_modes
    assert {name: row[0] for name, row in log[N3].items()} == expected_modes
    # mode, status, state_as_of, inserted, updated, deleted
    assert log[N2]["population__citizen"][:6] == ("incremental", "ok", N2, 1, 3, 0)
    assert log[N2]["social__payment"][:6] == ("full", "ok", N2, 0, 1, 1)
    assert log[N2]["vaccination__ho_chieu_vac_xin"][:6] == ("full", "ok", N2, 1, 0, 1)
    assert log[N3]["population__citizen"][:6] == ("incremental", "ok", N3, 0, 1, 1)
    assert log[N3]["vaccination__doi_tuong"][:6] == ("incremental", "ok", N3, 0, 2, 0)
    # the new child with an old update value and the malformed date are read (new keys); the empty and the
    # repeated key are rejected
    assert log[N3]["children__tre_em"][:6] == ("incremental", "ok", N3, 2, 0, 0)
    assert nights["n3"]["children__tre_em"].rows_rejected == 2
    # the bogus 2099 update does not become the watermark; the watermark is the newest sound update
    assert log[N3]["population__citizen"][7] == "2026-11-25 09:30:00"
    assert nights["n3"]["population__citizen"].rows_read < len(ids) // 10
    assert log[N3]["population__citizen"][6] == len(ids)  # one inserted at night 2, one deleted at night 3


def test_deleted_row_is_in_night_2_and_not_in_night_3(nights):
    assert nights["history3"]["deleted_in_3"] == 0
    assert nights["deleted_in_2"] == 1


def test_incremental_night_equals_a_full_refresh_on_the_same_source_state(nights):
    assert nights["state3_incremental"] == nights["state3_full"]
    assert {n: r[0] for n, r in nights["extractions3_full"].items()} == {c.raw_name: "full" for c in CONTRACTS}
    # the full refresh redoes night 3 over night 2's state: the same changes, found by comparing every row
    changes = {n: (s.rows_inserted, s.rows_updated, s.rows_deleted) for n, s in nights["n3"].items()}
    assert {n: (s.rows_inserted, s.rows_updated, s.rows_deleted) for n, s in nights["n3_full"].items()} == changes


def test_replaying_night_2_after_night_3_gives_the_same_state(nights):
    assert nights["state2_replay"] == nights["state2"]
    assert {n: r[:3] for n, r in nights["extractions2_replay"].items()} == {
        c.raw_name: ("replay", "ok", N2) for c in CONTRACTS
    }
    assert all(s.rows_read == 0 for s in nights["n2_replay"].values())


def test_an_interrupted_night_rerun_equals_an_uninterrupted_one(nights):
    assert nights["state4"] == nights["state4_ref"]
    assert nights["history4"] == nights["history4_ref"]
    assert nights["extractions4"] == nights["extractions4_ref"]
    # the citizen changed and changed back between the attempts has no version at night 4
    assert nights["extractions4"]["population__citizen"][3:6] == (0, 0, 0)


def test_a_change_without_its_update_column_needs_a_full_refresh(nights):
    assert not nights["silent_incremental"].endswith(" S")
    assert nights["silent_full"].endswith(" S")
    assert nights["n4_full"]["children__tre_em"].mode == "full"
    assert nights["n4_full"]["children__tre_em"].rows_updated == 1


PG_URL = os.environ.get("DOISOAT_TEST_PG_URL")


@pytest.mark.skipif(not PG_URL and not os.environ.get("DOISOAT_TEST_REQUIRE_PG"), reason="no DOISOAT_TEST_PG_URL")
def test_postgresql_incremental_read_uses_the_real_timestamp_column(tmp_path):
    assert PG_URL, "DOISOAT_TEST_REQUIRE_PG is set but DOISOAT_TEST_PG_URL is not"
    citizen = BY_NAME["population__citizen"]
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"doisoat_history_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    source = sa.create_engine(url)
    try:
        columns = ", ".join(
            f"{c} varchar" if c != "updated_at" else "updated_at timestamp" for c in citizen.raw_columns
        )
        with source.begin() as conn:
            conn.execute(sa.text(f"create table citizen ({columns}, primary key (personal_id))"))
            conn.execute(
                sa.text(
                    "insert into citizen (personal_id, full_name, updated_at)"
                    " select lpad(i::text, 12, '0'), 'N ' || i, timestamp '2026-01-01' + i * interval '1 hour'"
                    " from generate_series(1, 200) as i"
                )
            )
        con = duckdb.connect(str(tmp_path / "w.duckdb"))
        first = ingest_table(con, "population", url, citizen, N1)
        _commit(con, N1)
        with source.begin() as conn:
            conn.execute(
                sa.text(
                    "update citizen set full_name = 'X', updated_at = '2026-11-25 08:00'"
                    " where personal_id = '000000000007'"
                )
            )
            conn.execute(sa.text("delete from citizen where personal_id = '000000000009'"))
            conn.execute(
                sa.text(
                    "insert into citizen (personal_id, full_name, updated_at)"
                    " values ('000000000999', 'New', '2020-01-01')"
                )
            )
        second = ingest_table(con, "population", url, citizen, N2)
        assert (first.mode, first.rows_read, first.watermark) == ("full", 200, "2026-01-09 08:00:00")
        # re-read: the 33 rows updated since the watermark's day minus one (2026-01-08 from hour 168), the updated
        # row, and the new key whose update value is old
        assert (second.mode, second.rows_read) == ("incremental", 35)
        assert (second.rows_inserted, second.rows_updated, second.rows_deleted, second.rows_total) == (1, 1, 1, 200)
        con.close()
    finally:
        source.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
