"""Connection strings from URL parts, and secrets kept out of every message, log and exception."""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from urllib.parse import quote

import duckdb
import pytest
import sqlalchemy as sa

from assets.connections import libpq_uri, scrub
from assets.ingest import SourceError, ingest_table
from expectations.contracts import CONTRACTS

PASSWORD = "p@ss w:rd/%x"
CITIZEN = next(c for c in CONTRACTS if c.table == "citizen")


def test_libpq_uri_percent_encodes_every_part():
    url = f"postgresql+psycopg://us%20er:{quote(PASSWORD, safe='')}@db.example:5433/pop%2Fx?connect_timeout=2"
    uri = libpq_uri(url)
    assert uri == "postgresql://us%20er:p%40ss%20w%3Ard%2F%25x@db.example:5433/pop%2Fx?connect_timeout=2"
    assert " " not in uri


def test_scrub_removes_every_form_and_only_whole_tokens():
    url = f"postgresql+psycopg://u:{quote(PASSWORD, safe='')}@h/db"
    message = f"Connection refused for user u: {PASSWORD} / {quote(PASSWORD, safe='')} / {quote(PASSWORD)}"
    cleaned = scrub(message, url)
    assert "Connection refused for user ***: *** / *** / ***" == cleaned


PG_URL = os.environ.get("DOISOAT_TEST_PG_URL")


@pytest.mark.skipif(not PG_URL and not os.environ.get("DOISOAT_TEST_REQUIRE_PG"), reason="no DOISOAT_TEST_PG_URL")
def test_a_password_with_space_and_symbols_connects_and_never_leaks(tmp_path, caplog, capfd):
    assert PG_URL, "DOISOAT_TEST_REQUIRE_PG is set but DOISOAT_TEST_PG_URL is not"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    role, database = f"doisoat_pw_{uuid.uuid4().hex[:8]}", f"doisoat_pw_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        literal = PASSWORD.replace("'", "''")
        conn.execute(sa.text(f"create role {role} login password '{literal}'".replace(":", r"\:")))
        conn.execute(sa.text(f'create database "{database}" owner {role}'))
    base = sa.engine.make_url(PG_URL).set(username=role, database=database)
    good = base.set(password=PASSWORD).render_as_string(hide_password=False)
    bad = base.set(password=PASSWORD + " wrong").render_as_string(hide_password=False)
    with sa.create_engine(PG_URL).connect() as conn:  # a server trusting every host connection checks no password
        trusting = conn.execute(
            sa.text("select count(*) from pg_hba_file_rules where auth_method = 'trust' and type like 'host%'")
        ).scalar()
    if trusting:
        bad = base.set(password=PASSWORD, database=database + "_missing").render_as_string(hide_password=False)
    try:
        with sa.create_engine(good).begin() as conn:
            conn.execute(
                sa.text("create table citizen (" + ", ".join(f"{c} varchar" for c in CITIZEN.raw_columns) + ")")
            )
            conn.execute(sa.text("insert into citizen (personal_id) values ('001200000001')"))
        con = duckdb.connect(str(tmp_path / "w.duckdb"))
        stats = ingest_table(con, "population", good, CITIZEN, dt.date(2026, 11, 25))
        assert (stats.rows_read, stats.reader) == (1, "adbc-postgresql")
        caplog.set_level(logging.DEBUG)
        with pytest.raises(SourceError) as info:
            ingest_table(con, "population", bad, CITIZEN, dt.date(2026, 11, 25))
        out, err = capfd.readouterr()
        seen = "\n".join([str(info.value), repr(info.value), caplog.text, out, err])
        for form in {PASSWORD, PASSWORD + " wrong", quote(PASSWORD, safe=""), quote(PASSWORD + " wrong", safe="")}:
            assert form not in seen
        assert "cannot read the database" in str(info.value)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{database}" with (force)'))
            conn.execute(sa.text(f"drop role if exists {role}"))
        admin.dispose()
