"""Small warehouses built by hand with DuckDB (the tables the alert rules read), and a scan for personal data."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

NIGHT = dt.date(2026, 11, 20)
# Personal data planted in the warehouse's rows: none of it may reach an alert.
PLANTED_IDS = ("001234567890", "079088001122", "123456789")
PLANTED_NAMES = ("Nguyễn Thị Hoa", "Trần Văn Bình")

DDL = (
    "create schema if not exists meta",
    "create schema if not exists marts",
    "create schema if not exists raw",
    """create table meta.extractions (
        as_of date, source varchar, table_name varchar, mode varchar, status varchar, state_as_of date,
        error varchar, rows_read bigint, rows_inserted bigint, rows_updated bigint, rows_deleted bigint,
        rows_total bigint, rows_quarantined bigint, newest_update timestamp, watermark varchar,
        extracted_at timestamp, seconds double)""",
    """create table meta.night_status (
        as_of date primary key, run_id varchar, status varchar, step varchar,
        started_at timestamp, published_at timestamp, finished_at timestamp)""",
    """create table marts.fct_indicators (
        as_of date, indicator_code varchar, scope_level varchar, scope_code varchar,
        numerator bigint, denominator bigint, rate decimal(9, 4), target double, meets_target boolean)""",
    """create table marts.fct_findings (
        source varchar, source_record_id varchar, rule_code varchar, criterion varchar, commune_code varchar,
        as_of date)""",
    """create table raw._quarantine (
        source varchar, table_name varchar, record_key varchar, column_name varchar, reason varchar,
        row_json varchar, _as_of date, _extracted_at timestamp, source_record_id varchar, disposition varchar)""",
)


class Warehouse:
    """A hand-built warehouse: helpers insert the rows a test needs."""

    def __init__(self, path: Path):
        self.path = path
        self.con = duckdb.connect(str(path))
        for statement in DDL:
            self.con.execute(statement)

    def night(self, as_of: dt.date, status: str = "complete") -> None:
        self.con.execute(
            "insert or replace into meta.night_status values (?, 'run-' || ?, ?, null, null, null, null)",
            [as_of, str(as_of), status],
        )

    def extraction(
        self,
        as_of: dt.date,
        source: str,
        table: str,
        *,
        status: str = "ok",
        state_as_of: dt.date | None = None,
        error: str | None = None,
        rows_total: int = 1000,
        newest_update: dt.datetime | None = None,
    ) -> None:
        self.con.execute(
            "insert into meta.extractions values (?, ?, ?, 'full', ?, ?, ?, ?, 0, 0, 0, ?, 0, ?, null, ?, 1.0)",
            [
                as_of, source, table, status, state_as_of or as_of, error, rows_total, rows_total,
                newest_update, dt.datetime.combine(as_of, dt.time(0, 30)),
            ],
        )  # fmt: skip

    def indicator(self, as_of: dt.date, code: str, rate: float, scope: str = "01", level: str = "province",
                  denominator: int = 1000) -> None:  # fmt: skip
        numerator = round(rate * denominator / 100)
        self.con.execute(
            "insert into marts.fct_indicators values (?, ?, ?, ?, ?, ?, ?, 95, false)",
            [as_of, code, level, scope, numerator, denominator, rate],
        )

    def findings(self, as_of: dt.date, commune: str, count: int) -> None:
        """`count` findings in a commune, keyed by planted-looking 12-digit personal IDs."""
        self.con.execute(
            "insert into marts.fct_findings select 'population', lpad((79088000000 + i)::varchar, 12, '0'),"
            " 'DEATH_NOT_RECORDED', 'song', ?, ? from range(?) t(i)",
            [commune, as_of, count],
        )

    def quarantine(self, as_of: dt.date, source: str, table: str, rows: int) -> None:
        """`rows` bad rows (two bad values each), with a personal ID and a name in the row's JSON."""
        row_json = json.dumps({"personal_id": PLANTED_IDS[0], "full_name": PLANTED_NAMES[0]}, ensure_ascii=False)
        self.con.execute(
            "insert into raw._quarantine select ?, ?, lpad((12345000000 + i)::varchar, 12, '0'), c, 'not a date',"
            " ?, ?, now(), lpad((12345000000 + i)::varchar, 12, '0'), 'loaded'"
            " from range(?) t(i), (values ('birth_date'), ('updated_at')) v(c)",
            [source, table, row_json, as_of, rows],
        )

    def close(self) -> None:
        self.con.close()


@pytest.fixture
def warehouse(tmp_path) -> Iterable[Warehouse]:
    built = Warehouse(tmp_path / "warehouse.duckdb")
    yield built
    built.close()


@pytest.fixture
def alert_env(monkeypatch, tmp_path) -> Path:
    """No alert or source variable from the outer environment; alerts go to tmp_path/alerts."""
    import os

    for key in list(os.environ):
        if key.startswith("DOISOAT_"):
            monkeypatch.delenv(key)
    directory = tmp_path / "alerts"
    monkeypatch.setenv("DOISOAT_ALERT_DIR", str(directory))
    return directory


_ID_RUN = re.compile(r"(?<!\d)\d{9,}(?!\d)")


def assert_no_personal_data(*texts: str) -> None:
    """No run of 9+ digits (12-digit CCCD, 9-digit CMND) and no planted name in any alert text."""
    for text in texts:
        assert not _ID_RUN.search(text), f"a possible personal ID in an alert: {_ID_RUN.search(text).group()[:3]}…"
        for name in PLANTED_NAMES:
            assert name.casefold() not in text.casefold(), "a planted name in an alert"


def alert_files_text(directory: Path) -> str:
    files = sorted([*directory.glob("*.jsonl"), *directory.glob("*.log")])
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


# --- local servers for the channels --------------------------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's hook name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server():
    """An HTTP server on loopback taking JSON POSTs: (server, handler) with handler.received."""
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()
