"""A night on a copy of `tiny` with bad values planted: it succeeds, and every sector source row is accounted for.

Broken: one master personal_id `abc`; garbage in ~1 % of the rows of every table (every column type); rows with
an empty or repeated key in each sector table; 20 master citizens with a bad `updated_at`; names in VNI and
TCVN3 bytes (declared) and in bytes no declared encoding explains. Assertions compare counts and flags only:
keys of records are personal data.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3

import duckdb
import pandas as pd
import pytest

from assets.text_decoding import encode_tcvn3, encode_vni
from tests.support import AS_OF, run_night_on

SECTOR_TABLES = {"vaccination": "doi_tuong", "social": "BENEFICIARY", "civil": "ho_tich", "children": "tre_em"}
KEYS = {"doi_tuong": "ma_doi_tuong", "BENEFICIARY": "BENEFICIARY_ID", "ho_tich": "id", "tre_em": "ma_tre"}
GARBAGE = ["#!?", "2026-13-45", "x" * 40, "-", "9" * 30, "1e9", " "]
VNI_NAME, TCVN3_NAME = "Nguyễn Thị Hường", "trần văn đức"


def _unconstrained(con: sqlite3.Connection, table: str) -> None:
    """Recreate a table without its PRIMARY KEY / NOT NULL, so that keys can be broken."""
    con.execute(f'create table "_copy" as select * from "{table}"')
    con.execute(f'drop table "{table}"')
    con.execute(f'alter table "_copy" rename to "{table}"')


def _garbage(con: sqlite3.Connection, table: str, key: str | None, rng: random.Random) -> None:
    """Garbage in every non-key column of ~1 % of the rows."""
    columns = [r[1] for r in con.execute(f'pragma table_info("{table}")') if r[1] != key]
    rowids = [r[0] for r in con.execute(f'select rowid from "{table}"')]
    for rowid in rng.sample(rowids, max(1, len(rowids) // 100)):
        values = [rng.choice(GARBAGE) for _ in columns]
        assignments = ", ".join(f'"{c}" = ?' for c in columns)
        con.execute(f'update "{table}" set {assignments} where rowid = ?', [*values, rowid])


def _break_keys(con: sqlite3.Connection, table: str, key: str) -> int:
    """Two rows with an empty key and one repeating another row's key; returns the rows added."""
    columns = [r[1] for r in con.execute(f'pragma table_info("{table}")')]
    select = ", ".join(f'"{c}"' if c != key else "?" for c in columns)
    for value in (None, "  "):
        con.execute(f'insert into "{table}" select {select} from "{table}" limit 1', [value])
    con.execute(f'insert into "{table}" select * from "{table}" where rowid = (select min(rowid) from "{table}")')
    return 3


@pytest.fixture(scope="module")
def broken(tiny_sources, tmp_path_factory):
    """The broken copy of tiny, the night run on it, and what was planted."""
    work = tmp_path_factory.mktemp("broken_night")
    sources = work / "sources"
    shutil.copytree(tiny_sources, sources)
    rng = random.Random(8)
    truth = pd.read_parquet(sources / "ground_truth.parquet")
    planted: dict = {"rejected": {}}

    with sqlite3.connect(sources / "population.sqlite") as con:
        _unconstrained(con, "citizen")
        con.execute("update citizen set personal_id = 'abc' where rowid = (select max(rowid) from citizen)")
        # 20 citizens linked by their ID to sector records get an unreadable updated_at: they must still link
        linked = truth[(truth["link_class"] == "personal_id") & (truth["record_kind"] == "record")]
        chosen = sorted(set(linked["true_personal_id"]))[:20]
        con.executemany("update citizen set updated_at = 'not a time' where personal_id = ?", [(p,) for p in chosen])
        planted["stale_citizens"] = chosen
        _garbage(con, "household", "household_id", rng)
    for source, table in SECTOR_TABLES.items():
        with sqlite3.connect(sources / f"{source}.sqlite") as con:
            _unconstrained(con, table)
            _garbage(con, table, KEYS[table], rng)
            planted["rejected"][source] = _break_keys(con, table, KEYS[table])
    with sqlite3.connect(sources / "vaccination.sqlite") as con:
        for table, key in (("mui_tiem", "ma_mui"), ("ho_chieu_vac_xin", None)):
            _garbage(con, table, key, rng)
        (vni_row,), (bad_row,) = con.execute(
            "select min(rowid) from doi_tuong where ma_doi_tuong is not null and trim(ma_doi_tuong) <> ''"
            " group by ma_doi_tuong having count(*) = 1 order by 1 limit 2 offset 10"
        ).fetchall()
        con.execute("update doi_tuong set ho_ten = cast(? as text) where rowid = ?", [encode_vni(VNI_NAME), vni_row])
        con.execute("update doi_tuong set ho_ten = cast(x'4e67757981ff' as text) where rowid = ?", [bad_row])
        planted["vni_key"] = con.execute(
            "select trim(ma_doi_tuong) from doi_tuong where rowid = ?", [vni_row]
        ).fetchone()
        planted["bad_key"] = con.execute(
            "select trim(ma_doi_tuong) from doi_tuong where rowid = ?", [bad_row]
        ).fetchone()
    with sqlite3.connect(sources / "social.sqlite") as con:
        _garbage(con, "PAYMENT", "PAYMENT_ID", rng)
    with sqlite3.connect(sources / "children.sqlite") as con:
        row = con.execute("select rowid, trim(ma_tre) from tre_em where ma_tre is not null limit 1 offset 5").fetchone()
        con.execute("update tre_em set ho_va_ten = cast(? as text) where rowid = ?", [encode_tcvn3(TCVN3_NAME), row[0]])
        planted["tcvn3_key"] = row[1]

    saved = dict(os.environ)
    os.environ["DOISOAT_VACCINATION_LEGACY_ENCODINGS"] = "vni"
    os.environ["DOISOAT_CHILDREN_LEGACY_ENCODINGS"] = "tcvn3"
    try:
        ok = run_night_on(sources, work / "warehouse.duckdb", work / "dagster_home")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return sources, work / "warehouse.duckdb", ok, planted


def test_the_broken_night_succeeds(broken):
    assert broken[2], "a night with bad values must not fail"


def test_every_sector_source_row_has_one_reconciliation_row(broken):
    sources, warehouse, ok, planted = broken
    assert ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        recon = dict(
            con.execute(
                "select source, count(*) from marts.fct_reconciliation where as_of = ? group by 1", [AS_OF]
            ).fetchall()
        )
        distinct = con.execute(
            "select count(distinct (source, source_record_id)) = count(*) from marts.fct_reconciliation"
            " where as_of = ?",
            [AS_OF],
        ).fetchone()[0]
        rejected = dict(
            con.execute(
                "select source, count(*) from marts.fct_findings where as_of = ? and rule_code = 'ROW_REJECTED'"
                " and source <> 'population' group by 1",
                [AS_OF],
            ).fetchall()
        )
        not_reconciled = con.execute(
            "select count(*) from marts.fct_reconciliation r"
            " join marts.fct_findings f using (source, source_record_id, as_of)"
            " where r.as_of = ? and f.rule_code = 'ROW_REJECTED' and (r.is_reconciled or r.match_method <> 'none')",
            [AS_OF],
        ).fetchone()[0]
    for source, table in SECTOR_TABLES.items():
        with sqlite3.connect(sources / f"{source}.sqlite") as con:
            source_rows = con.execute(f'select count(*) from "{table}"').fetchone()[0]
        assert recon[source] == source_rows, source
        assert rejected[source] == planted["rejected"][source], source
    assert distinct
    assert not_reconciled == 0


def test_a_malformed_master_id_is_a_finding_and_links_nobody(broken):
    _, warehouse, ok, _ = broken
    assert ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        findings = con.execute(
            "select count(*) from marts.fct_findings where as_of = ? and rule_code = 'PERSONAL_ID_MALFORMED'"
            " and source = 'population' and source_record_id = 'abc'",
            [AS_OF],
        ).fetchone()[0]
        links = con.execute(
            "select count(*) from marts.fct_reconciliation where as_of = ? and personal_id = 'abc'", [AS_OF]
        ).fetchone()[0]
    assert (findings, links) == (1, 0)


def test_citizens_with_a_bad_timestamp_still_link(broken):
    _, warehouse, ok, planted = broken
    assert ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("create temp table chosen (personal_id varchar)")
        con.executemany("insert into chosen values (?)", [(p,) for p in planted["stale_citizens"]])
        loaded = con.execute(
            "select count(*) from raw.population__citizen where personal_id in (select personal_id from chosen)"
            " and updated_at is null"
        ).fetchone()[0]
        quarantined = con.execute(
            "select count(*) from raw._quarantine where table_name = 'citizen' and disposition = 'loaded'"
            " and column_name = 'updated_at' and record_key in (select personal_id from chosen)"
        ).fetchone()[0]
        linked_to = con.execute(
            "select count(distinct personal_id) from marts.fct_reconciliation where as_of = ?"
            " and personal_id in (select personal_id from chosen)",
            [AS_OF],
        ).fetchone()[0]
    assert loaded == quarantined == 20
    assert linked_to == 20


def test_legacy_bytes_are_decoded_or_replaced_and_quarantined(broken):
    _, warehouse, ok, planted = broken
    assert ok
    with duckdb.connect(str(warehouse), read_only=True) as con:
        vni = con.execute(
            "select ho_ten from raw.vaccination__doi_tuong where trim(ma_doi_tuong) = ?", [planted["vni_key"][0]]
        ).fetchone()[0]
        tcvn3 = con.execute(
            "select ho_va_ten from raw.children__tre_em where trim(ma_tre) = ?", [planted["tcvn3_key"]]
        ).fetchone()[0]
        replaced = con.execute(
            "select ho_ten from raw.vaccination__doi_tuong where trim(ma_doi_tuong) = ?", [planted["bad_key"][0]]
        ).fetchone()[0]
        reasons = con.execute(
            "select reason, disposition from raw._quarantine where table_name = 'doi_tuong' and source_record_id = ?",
            [planted["bad_key"][0]],
        ).fetchall()
    assert vni == VNI_NAME
    assert tcvn3 == TCVN3_NAME
    assert replaced == "Nguy\ufffd\ufffd"
    assert len(reasons) == 1 and reasons[0][1] == "loaded"
    assert "ho_ten: not valid UTF-8 nor vni; invalid bytes replaced" in reasons[0][0]
