"""On the tiny scenario every source row lands in `raw` or is rejected into quarantine; PostgreSQL gives the same."""

import os
import sqlite3
import uuid

import duckdb
import pytest
import sqlalchemy as sa

from assets.ingest import ingest_table
from expectations.contracts import CONTRACTS
from tests.support import AS_OF


def _ingest_all(urls: dict[str, str], warehouse) -> dict[str, tuple[int, int, int]]:
    con = duckdb.connect(str(warehouse))
    try:
        out = {}
        for contract in CONTRACTS:
            stats = ingest_table(con, contract.source, urls[contract.source], contract, AS_OF)
            raw = con.execute(f"select count(*) from raw.{contract.raw_name}").fetchone()[0]
            quarantined, rejected = con.execute(
                "select count(*), count(*) filter (where disposition = 'rejected') from raw._quarantine"
                " where source = ? and table_name = ?",
                [contract.source, contract.table],
            ).fetchone()
            assert (raw, quarantined, rejected) == (stats.rows_loaded, stats.rows_quarantined, stats.rows_rejected)
            out[contract.raw_name] = (stats.rows_read, raw, rejected)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def tiny_raw_counts(tiny_sources, tmp_path_factory):
    urls = {
        s: f"sqlite:///{tiny_sources / f'{s}.sqlite'}"
        for s in ("population", "vaccination", "social", "civil", "children")
    }
    return _ingest_all(urls, tmp_path_factory.mktemp("ingest") / "w.duckdb")


def test_every_source_row_lands_in_raw_or_is_rejected(tiny_sources, tiny_raw_counts):
    for contract in CONTRACTS:
        with sqlite3.connect(tiny_sources / f"{contract.source}.sqlite") as con:
            source_rows = con.execute(f'select count(*) from "{contract.table}"').fetchone()[0]
        rows_read, raw, rejected = tiny_raw_counts[contract.raw_name]
        assert source_rows > 0, contract.raw_name
        assert rows_read == source_rows == raw + rejected, contract.raw_name


def test_raw_values_are_text_with_night_and_extraction_time(tiny_sources, tmp_path):
    contract = next(c for c in CONTRACTS if c.table == "BENEFICIARY")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_table(con, "social", f"sqlite:///{tiny_sources / 'social.sqlite'}", contract, AS_OF)
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns where table_name = 'social__beneficiary'"
        ).fetchall()
    )
    assert {c: types[c] for c in contract.raw_columns} == {c: "VARCHAR" for c in contract.raw_columns}
    assert types["_as_of"] == "DATE" and types["_extracted_at"] == "TIMESTAMP"
    # a DATE column renders as YYYY-MM-DD text
    assert (
        con.execute(
            "select count(*) from raw.social__beneficiary"
            " where dob is not null and not regexp_full_match(dob, '\\d{4}-\\d{2}-\\d{2}')"
        ).fetchone()[0]
        == 0
    )


PG_URL = os.environ.get("DOISOAT_TEST_PG_URL")


@pytest.mark.skipif(not PG_URL and not os.environ.get("DOISOAT_TEST_REQUIRE_PG"), reason="no DOISOAT_TEST_PG_URL")
def test_postgresql_source_gives_the_same_raw_counts(tmp_path, tiny_raw_counts):
    assert PG_URL, "DOISOAT_TEST_REQUIRE_PG is set but DOISOAT_TEST_PG_URL is not"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:8]
    urls = {}
    with admin.connect() as conn:
        for source in ("population", "vaccination", "social", "civil", "children"):
            name = f"doisoat_{source}_{suffix}"
            conn.execute(sa.text(f'create database "{name}"'))
            urls[source] = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        from simulator import simulate

        simulate("tiny", seed=7, as_of=AS_OF, urls=urls, truth_path=tmp_path / "truth.parquet")
        assert _ingest_all(urls, tmp_path / "pg.duckdb") == tiny_raw_counts
    finally:
        with admin.connect() as conn:
            for url in urls.values():
                conn.execute(sa.text(f'drop database if exists "{sa.engine.make_url(url).database}" with (force)'))
        admin.dispose()
