"""Ingestion: every source table → its history in DuckDB, as Arrow batches, checked by its pandera contract.

Each source is reached through its SQLAlchemy URL (SOURCES.md): SQLAlchemy checks that it is reachable and that
the tables and columns of the contract exist; the bulk rows move as Arrow through an ADBC driver (SQLite,
PostgreSQL) or, for any other dialect, through SQLAlchemy in pandas chunks. Every value lands as text
(docs/internal-contracts.md, "Raw layer"); rows breaking the contract go to `raw._quarantine` with a reason.
A night reads only what changed since the last committed night's watermark where the table has an update
column, keeps every version in `history.<table>` and makes `raw.<table>` the night's state (`assets.history`).
"""

import contextlib
import datetime as dt
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import sqlalchemy as sa
from dagster import AssetExecutionContext
from sqlalchemy.engine import make_url

from assets import history
from assets.connections import first_line, libpq_uri, scrub, sqlite_uri
from assets.dbt_parse import start_preparse
from assets.partitions import NIGHTS, ONE_NIGHT_PER_RUN, TIMEZONE, night_of
from assets.resources import SourcesResource, WarehouseResource
from assets.text_decoding import legacy_encodings, repair_batch
from expectations.contracts import CATALOGUE, CONTRACTS, MASTER, TableContract

BATCH_ROWS = 200_000
# Batches the source read may run ahead of the DuckDB work (memory: at most this many + 2 batches in flight).
PREFETCH_BATCHES = 2
# Above this share of quarantined rows a table is not "a few bad rows" but a broken column: fail loudly.
MAX_QUARANTINE_SHARE = 0.5
_SENTINEL = "__doisoat_sentinel"
DEFAULT_QUARANTINE_RETENTION_NIGHTS = 30
# An incremental read names the keys it must re-read (new, repeated, rewritten); beyond this many the table is
# read whole instead (a SQL IN list of this size is still cheap for SQLite and PostgreSQL).
MAX_KEYS_IN_FILTER = 20_000

QUARANTINE_DDL = """
create table if not exists raw._quarantine (
    source varchar, table_name varchar, record_key varchar, column_name varchar, reason varchar,
    row_json varchar, _as_of date, _extracted_at timestamp, source_record_id varchar, disposition varchar
)
"""


class SourceError(Exception):
    """A source cannot be read as SOURCES.md says. The message names source, table and column, never credentials."""


class SourceUnreachable(SourceError):
    """A source cannot be reached or read (connection, file, driver): unlike a contract violation, it is down."""


@dataclass(frozen=True)
class IngestStats:
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    seconds: float
    reader: str
    rows_rejected: int = 0
    values_nulled: int = 0
    values_replaced: int = 0
    values_decoded: int = 0
    quarantine_purged: int = 0
    mode: str = "full"
    state_as_of: dt.date | None = None
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    rows_total: int = 0
    watermark: str | None = None
    newest_update: dt.datetime | None = None
    error: str | None = None

    @property
    def quarantine_share(self) -> float:
        """Quarantined rows over the rows of the night's state (loaded and rejected), whatever was read tonight."""
        rows = self.rows_total + self.rows_rejected
        return self.rows_quarantined / rows if rows else 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0


# --- reaching a source ---------------------------------------------------------------------------------------


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown by its scheme only
        return url.split(":", 1)[0] + ":…"


def _scrub(message: object, url: str) -> str:
    """A driver's message without the URL's user name and password (any form, whole tokens); its first line."""
    return first_line(scrub(message, url))


def open_engine(source: str, url: str) -> sa.Engine:
    """A SQLAlchemy engine for a source, after checking it is reachable."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise SourceError(f"source {source}: the URL is not a valid SQLAlchemy URL") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            raise SourceUnreachable(f"source {source} ({display_url(url)}): database file not found: {path}")
    engine = sa.create_engine(url, pool_pre_ping=False)
    try:
        with engine.connect() as conn:
            sa.inspect(conn).get_table_names()
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        reason = _scrub(getattr(exc, "orig", None) or exc, url)
        raise SourceUnreachable(f"source {source} ({display_url(url)}): cannot read the database: {reason}") from None
    return engine


def resolve_columns(engine: sa.Engine, contract: TableContract, url: str) -> tuple[str, list[str]]:
    """The table's actual name and the actual names of the contract's columns (matched case-insensitively)."""
    where = f"source {contract.source} ({display_url(url)})"
    insp = sa.inspect(engine)
    tables = {name.lower(): name for name in insp.get_table_names()}
    actual_table = tables.get(contract.table.lower())
    if actual_table is None:
        raise SourceError(f"{where}: table {contract.table} is missing")
    present = {col["name"].lower(): col["name"] for col in insp.get_columns(actual_table)}
    missing = [name for name in contract.column_names if name.lower() not in present]
    if missing:
        raise SourceError(f"{where}: table {contract.table} has no column {', '.join(missing)}")
    return actual_table, [present[name.lower()] for name in contract.column_names]


def select_as_text(engine: sa.Engine, table: str, columns: list[str], contract: TableContract, where=None) -> str:
    """SQL selecting every contract column as text, named in lower case, in the source's dialect."""
    stmt = sa.select(
        *[sa.cast(sa.column(col), sa.String).label(raw) for col, raw in zip(columns, contract.raw_columns, strict=True)]
    ).select_from(sa.table(table))
    if where is not None:
        stmt = stmt.where(where)
    return str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _sqlite_batches(path: str, sql: str, names: list[str], batch_rows: int) -> Iterator[pa_arrow.RecordBatch]:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    # The ADBC SQLite driver infers each column's Arrow type from its first batch; a column that is NULL
    # throughout that batch would be typed INT64 and fail on the first text value. A leading all-text
    # sentinel row fixes every column to string; it is dropped below. Text bytes arrive unchecked (SQLite
    # does not enforce UTF-8): repair_batch checks them before anything reaches DuckDB.
    sentinel = ", ".join(f"'' as {n}" for n in names)
    wrapped = f"select 1 as {_SENTINEL}, {sentinel} union all select 0, * from ({sql})"
    with adbc_sqlite.connect(sqlite_uri(path)) as conn, conn.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
        cur.execute(wrapped)
        first = True
        for batch in cur.fetch_record_batch():
            if first:
                if batch.num_rows == 0 or batch.column(0)[0].as_py() != 1:
                    raise RuntimeError("SQLite returned the type sentinel out of order")
                batch = batch.slice(1)
                first = False
            yield batch.drop_columns([_SENTINEL])


def _postgres_batches(url: str, sql: str) -> Iterator[pa_arrow.RecordBatch]:
    import adbc_driver_postgresql.dbapi as adbc_pg

    with adbc_pg.connect(libpq_uri(url)) as conn, conn.cursor() as cur:
        cur.execute(sql)
        yield from cur.fetch_record_batch()


def _sqlalchemy_batches(engine: sa.Engine, sql: str, batch_rows: int) -> Iterator[pa_arrow.RecordBatch]:
    with engine.connect().execution_options(stream_results=True) as conn:
        for chunk in pd.read_sql(sa.text(sql), conn, chunksize=batch_rows, dtype=str):
            yield from pa_arrow.Table.from_pandas(chunk, preserve_index=False).to_batches()


def prefetched(batches: Iterator, depth: int = PREFETCH_BATCHES) -> Iterator:
    """`batches`, read ahead by a thread: the source read (ADBC, which releases the GIL) overlaps the caller's
    DuckDB work on the batches before. Same items, same order; an error of the read is raised here, as it was
    raised there (same exception object); the read is closed in its thread when the caller stops early."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    break
            else:
                put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="doisoat-source-read", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def arrow_batches(
    engine: sa.Engine, url: str, sql: str, names: list[str], batch_rows: int = BATCH_ROWS
) -> tuple[str, Iterator[pa_arrow.RecordBatch]]:
    """The rows of `sql` as Arrow record batches of text columns (read ahead by a thread), and the reader used."""
    backend = engine.url.get_backend_name()
    if backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        return "adbc-sqlite", prefetched(_sqlite_batches(engine.url.database, sql, names, batch_rows))
    if backend == "postgresql":
        return "adbc-postgresql", prefetched(_postgres_batches(url, sql))
    return "sqlalchemy", _sqlalchemy_batches(engine, sql, batch_rows)


# --- the contract --------------------------------------------------------------------------------------------


def type_failures(contract: TableContract, frame: pd.DataFrame) -> pd.DataFrame:
    """The values of `frame` that break the contract's type checks: one row per (row, column).

    Columns `row` (position in the frame), `column_name`, `reason` (names the check, never the value) and
    `value` (the value as text, for the quarantine). Key emptiness and uniqueness are checked over the whole
    table in SQL (see `_load`), not per batch.
    """
    try:
        contract.schema(check_keys=False).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        if cases.empty:  # a schema-level failure (e.g. a missing column) is not about rows
            raise
        return pd.DataFrame(
            {
                "row": cases["index"].astype("int64").to_numpy(),
                "column_name": cases["column"].astype(str).to_numpy(),
                "reason": cases["check"].astype(str).to_numpy(),
                "value": cases["failure_case"].astype(str).to_numpy(),
            }
        ).drop_duplicates(["row", "column_name"])
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "column_name": pd.Series(dtype=str),
            "reason": pd.Series(dtype=str),
            "value": pd.Series(dtype=str),
        }
    )


def validate_batch(contract: TableContract, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of `frame` that break the contract's type checks, indexed by row, with `column_name` and `reason`."""
    cases = type_failures(contract, frame)
    return (
        cases.assign(reason=cases["column_name"] + ": " + cases["reason"])
        .groupby("row", sort=True)
        .agg(
            column_name=("column_name", lambda c: ",".join(sorted(set(c)))),
            reason=("reason", lambda r: "; ".join(sorted(set(r)))),
        )
    )


def _reason_text(check: str) -> str:
    return {"not_nullable": "key is empty", "field_uniqueness": "duplicate key"}.get(check, check)


def quarantine_retention_nights(environ: dict[str, str] | None = None) -> int:
    """Nights a quarantine row is kept (`DOISOAT_QUARANTINE_RETENTION_NIGHTS`, default 30)."""
    value = (os.environ if environ is None else environ).get("DOISOAT_QUARANTINE_RETENTION_NIGHTS", "").strip()
    if not value:
        return DEFAULT_QUARANTINE_RETENTION_NIGHTS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"DOISOAT_QUARANTINE_RETENTION_NIGHTS must be a whole number of nights ≥ 1, got {value!r}")
    return int(value)


# --- loading -------------------------------------------------------------------------------------------------


def _with_row(table: pa_arrow.Table, first_row: int) -> pa_arrow.Table:
    """The batch with `_row`, each row's position in tonight's read (the night and clock are constants)."""
    n = table.num_rows
    return table.append_column("_row", pa_arrow.array(np.arange(first_row, first_row + n, dtype=np.int64)))


@dataclass(frozen=True)
class _Read:
    """What tonight's read was: its mode (`full` or `incremental`), the reader used, and its counts."""

    mode: str
    reader: str
    counts: dict


def _now_local() -> dt.datetime:
    """The wall clock in Asia/Ho_Chi_Minh (source timestamps are local): update values after it are bogus."""
    return dt.datetime.now(ZoneInfo(TIMEZONE)).replace(tzinfo=None)


def ingest_table(
    con,
    source: str,
    url: str,
    contract: TableContract,
    as_of: dt.date,
    extracted_at: dt.datetime | None = None,
    batch_rows: int = BATCH_ROWS,
    max_quarantine_share: float = MAX_QUARANTINE_SHARE,
    legacy: tuple[str, ...] | None = None,
    retention_nights: int | None = None,
    full_refresh: bool = False,
    stale_ok: bool = False,
    lookback: int | None = None,
    raw_as_table: bool = False,
) -> IngestStats:
    """Bring the table's history to night `as_of` and make `raw.<table>` its state that night (module docstring).

    A row whose key is empty or repeated cannot load: it is quarantined whole (`disposition` = rejected).
    A row with a sound key loads; a value that breaks its column's type is loaded as NULL, text that is not
    UTF-8 is decoded by the policy of `assets.text_decoding`, and either is recorded in the quarantine
    (`disposition` = loaded) with its column and reason. Extraction is incremental from the last committed
    night's watermark, whole on the first night or with `full_refresh`, a replay (no source read) for a night
    not after the last committed one. With `stale_ok`, an unreachable source gives the last committed state
    (mode `stale`) instead of an error.
    """
    started = time.perf_counter()
    extracted_at = extracted_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    encodings = legacy_encodings(source) if legacy is None else legacy
    retention = quarantine_retention_nights() if retention_nights is None else retention_nights
    days_back = history.lookback_days() if lookback is None else lookback
    _ensure_quarantine(con)
    history.ensure_tables(con, contract)
    plan = history.plan_night(con, contract, as_of, full_refresh)
    if plan.mode == "replay":
        return _replay(con, contract, as_of, plan, extracted_at, started, raw_as_table)
    names = _work_tables(contract)
    try:
        read = _read_source(con, source, url, contract, plan, names, batch_rows, encodings, days_back, as_of,
                            extracted_at)  # fmt: skip
        key = contract.key.lower() if contract.key else None
        read.counts["nulled"] = _check_types(con, contract, names["landing"], names["issues"], key)
        counts = _write_night(con, contract, plan, read, names, as_of, extracted_at, retention, raw_as_table,
                              max_quarantine_share, url, started)  # fmt: skip
    except SourceUnreachable as exc:
        if not stale_ok or plan.frontier is None:
            raise
        return _stale(con, contract, as_of, plan, str(exc), extracted_at, started, raw_as_table)
    finally:
        for part, name in names.items():
            con.execute(f"drop view if exists {name}" if part in _WORK_VIEWS else f"drop table if exists {name}")
    return IngestStats(
        rows_read=counts["read"],
        rows_loaded=counts["loaded"],
        rows_quarantined=counts["quarantined"],
        seconds=time.perf_counter() - started,
        reader=read.reader,
        rows_rejected=counts["rejected"],
        values_nulled=counts["nulled"],
        values_replaced=counts["replaced"],
        values_decoded=counts["decoded"],
        quarantine_purged=counts["purged"],
        mode=read.mode,
        state_as_of=as_of,
        rows_inserted=counts["inserted"],
        rows_updated=counts["updated"],
        rows_deleted=counts["deleted"],
        rows_total=counts["total"],
        watermark=counts["watermark"],
        newest_update=counts["newest"],
    )


# Work objects that are temp views (the others are temp tables).
_WORK_VIEWS = frozenset({"loaded", "carried"})


def _work_tables(contract: TableContract) -> dict[str, str]:
    """The night's work tables of a table: TEMP tables (memory, spilled when needed), never in the warehouse file;
    `loaded` and `carried` are TEMP views."""
    return {
        part: f"__{part}_{contract.raw_name}"
        for part in ("landing", "issues", "rejected", "scan", "gone", "dupkeys", "loaded", "carried", "scope")
    }


def _read_source(con, source, url, contract, plan, names, batch_rows, encodings, days_back, as_of, extracted_at):
    """Read tonight's rows into the landing table (with the key scan first when incremental)."""
    engine = open_engine(source, url)
    try:
        actual_table, actual_columns = resolve_columns(engine, contract, url)
        where, mode = None, plan.mode
        if mode == "incremental":
            where = _incremental_filter(con, engine, url, contract, plan, names, actual_table, actual_columns,
                                        batch_rows, encodings, days_back)  # fmt: skip
            mode = "incremental" if where is not None else "full"
        sql = select_as_text(engine, actual_table, actual_columns, contract, where)
        reader, batches = arrow_batches(engine, url, sql, contract.raw_columns, batch_rows)
        with contextlib.closing(batches):  # a failed load stops the read-ahead and closes the source read now
            counts = _land(con, contract, batches, names, as_of, extracted_at, encodings)
        return _Read(mode, reader, counts)
    except (SourceError, duckdb.Error):  # a contract violation, or the warehouse's own error: not a source down
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise SourceUnreachable(
            f"source {source} ({display_url(url)}): table {contract.table} cannot be read: "
            f"{_scrub(getattr(exc, 'orig', None) or exc, url)}"
        ) from None
    except Exception as exc:  # driver errors (ADBC) while streaming
        if isinstance(exc, pa.errors.SchemaErrors):
            raise
        raise SourceUnreachable(
            f"source {source} ({display_url(url)}): table {contract.table} cannot be read: "
            f"{type(exc).__name__}: {_scrub(exc, url)}"
        ) from None
    finally:
        engine.dispose()


def _incremental_filter(
    con, engine, url, contract, plan, names, actual_table, actual_columns, batch_rows, encodings, days_back
):
    """The WHERE clause of an incremental read, or None when the table must be read whole.

    Re-read: rows updated since the base night's watermark date minus the lookback, rows whose update value is
    empty, rows whose key is empty, repeated, or not a current key of the history with the same text (new
    rows, rows rejected before, keys rewritten) — so every row that can be rejected or that changed is read.
    """
    if plan.watermark is None or not contract.key:
        return None
    key_position = contract.raw_columns.index(contract.key.lower())
    key_col, update_col = actual_columns[key_position], actual_columns[contract.raw_columns.index(
        contract.update_column.lower())]  # fmt: skip
    scan_sql = str(
        sa.select(sa.cast(sa.column(key_col), sa.String).label("k"))
        .select_from(sa.table(actual_table))
        .compile(dialect=engine.dialect)
    )
    _, batches = arrow_batches(engine, url, scan_sql, ["k"], batch_rows)
    scan, gone = names["scan"], names["gone"]
    # `_k`: the key trimmed once (keys are compared trimmed, as staging does).
    con.execute(f"create or replace temp table {scan} (k varchar, _k varchar)")
    with contextlib.closing(batches):
        for batch in batches:
            if batch.num_rows:
                repaired, _, _ = repair_batch(batch, encodings)
                con.register("_scan_batch", pa_arrow.Table.from_batches([repaired]))
                con.execute(f"insert into {scan} select k, trim(k) from _scan_batch")
                con.unregister("_scan_batch")
    key = contract.key.lower()
    state = history.state_sql(contract, plan.base)
    # One full join of the base night's keys with the source's keys finds both what must be re-read (a key
    # that is new, or whose text differs from the current version's: a rewritten key, or one rejected before)
    # and the keys gone from the source (`gone`: their versions close tonight).
    con.execute(f"""
        create or replace temp table {gone} as
        select case when s._seen then s.k end as k, case when s._seen is null then h._key end as gone
        from (select _key, {key} as _text from ({state})) as h
        full join (select k, _k, true as _seen from {scan}) as s on h._key = s._k
        where s._seen is null or (s._k <> '' and (h._key is null or h._text is distinct from s.k))
    """)
    repeated = f"(select _k from {scan} where _k <> '' group by 1 having count(*) > 1)"
    keys = [
        row[0]
        for row in con.execute(f"""
            select k from {gone} where k is not null
            union select k from {scan} where _k in {repeated}
            order by 1
        """).fetchall()
    ]
    if len(keys) > MAX_KEYS_IN_FILTER:
        return None
    lower = (dt.date.fromisoformat(plan.watermark[:10]) - dt.timedelta(days=days_back)).isoformat()
    upd, k = sa.column(update_col), sa.column(key_col)
    conditions = [
        upd >= sa.literal(lower, sa.String),
        upd.is_(None),
        sa.func.trim(sa.cast(upd, sa.String)) == "",
        k.is_(None),
        sa.func.trim(sa.cast(k, sa.String)) == "",
    ]
    if keys:
        conditions.append(sa.cast(k, sa.String).in_(keys))
    return sa.or_(*conditions)


def _ensure_quarantine(con) -> None:
    con.execute("create schema if not exists raw")
    con.execute(QUARANTINE_DDL)
    for column in ("source_record_id", "disposition"):  # added after the first warehouses were written
        con.execute(f"alter table raw._quarantine add column if not exists {column} varchar")


def _insert_issues(con, issues_table: str, rows: pd.DataFrame, kind: str) -> None:
    if rows.empty:
        return
    frame = pa_arrow.table(
        {
            "_row": pa_arrow.array(rows["row"].to_numpy(), pa_arrow.int64()),
            "column_name": pa_arrow.array(rows["column_name"].tolist(), pa_arrow.string()),
            "reason": pa_arrow.array(rows["reason"].tolist(), pa_arrow.string()),
            "value": pa_arrow.array(rows["value"].tolist(), pa_arrow.string()),
            "kind": pa_arrow.array([kind] * len(rows), pa_arrow.string()),
        }
    )
    con.register("_issues_batch", frame)
    con.execute(f"insert into {issues_table} select * from _issues_batch")
    con.unregister("_issues_batch")


def _check_types(con, contract: TableContract, landing: str, issues: str, key: str | None) -> int:
    """Type-check the landed rows by the contract; record the failures and NULL the bad values (not the key's).

    One vectorised DuckDB pass (`TableContract.sql_needs_check`) selects the rows with a typed value it cannot
    vouch for; the pandera schema validates those rows only and words every failure. Returns the values nulled.
    """
    needs_check = contract.sql_needs_check()
    if needs_check is None:
        return 0
    suspects = con.sql(
        f"select _row, {', '.join(contract.raw_columns)} from {landing} where {needs_check} order by _row"
    ).to_arrow_table()
    if suspects.num_rows == 0:
        return 0
    frame = suspects.drop_columns(["_row"]).to_pandas()
    frame.index = suspects.column("_row").to_numpy()
    cases = type_failures(contract, frame)
    if cases.empty:
        return 0
    cases = cases.assign(reason=cases["reason"].map(_reason_text))
    on_key = cases["column_name"] == key
    _insert_issues(con, issues, cases[~on_key], "value")
    _insert_issues(con, issues, cases[on_key], "key")
    nulled = cases[~on_key]
    con.register(
        "_type_cases",
        pa_arrow.table({
            "_row": pa_arrow.array(nulled["row"].to_numpy(), pa_arrow.int64()),
            "column_name": pa_arrow.array(nulled["column_name"].tolist(), pa_arrow.string()),
        }),
    )  # fmt: skip
    try:
        for name in sorted(set(nulled["column_name"])):
            con.execute(
                f"update {landing} set {name} = null"
                " where _row in (select _row from _type_cases where column_name = ?)",
                [name],
            )
    finally:
        con.unregister("_type_cases")
    return int((~on_key).sum())


def _land(con, contract, batches, names, as_of, extracted_at, encodings) -> dict:
    """Tonight's rows into the landing table, what breaks the contract into the issues table.

    Text is repaired per batch (Arrow); the key is checked over all rows here, the types by `_check_types`.
    """
    landing, issues = names["landing"], names["issues"]
    key = contract.key.lower() if contract.key else None
    cols_sql = ", ".join(f"{c} varchar" for c in contract.raw_columns)
    # `_k`: the key trimmed once, as every later step compares it (staging keys are trimmed).
    con.execute(f"create or replace temp table {landing} ({cols_sql}, _row bigint{', _k varchar' if key else ''})")
    trimmed = f", trim({key})" if key else ""
    con.execute(
        f"create or replace temp table {issues} (_row bigint, column_name varchar, reason varchar, value varchar,"
        " kind varchar)"
    )
    counts = {"read": 0, "decoded": 0, "replaced": 0, "nulled": 0}
    for batch in batches:
        if batch.num_rows == 0:
            continue
        first = counts["read"]
        batch, bad_text, decoded = repair_batch(batch, encodings)
        counts["decoded"] += sum(decoded.values())
        counts["replaced"] += len(bad_text)
        if bad_text:
            text_cases = pd.DataFrame(bad_text, columns=["row", "column_name", "reason", "value"])
            _insert_issues(con, issues, text_cases.assign(row=text_cases["row"] + first), "value")
        table = _with_row(pa_arrow.Table.from_batches([batch]), first)
        con.register("_good_batch", table)
        con.execute(f"insert into {landing} select *{trimmed} from _good_batch")
        con.unregister("_good_batch")
        counts["read"] += batch.num_rows

    if key:
        # The key is checked over the rows read, trimmed (staging keys are trimmed): empty, or repeated (the
        # first row in read order keeps the key, later ones cannot load). An incremental read re-reads every
        # row of a repeated key, so this is the check over the whole table.
        con.execute(f"""
            insert into {issues}
            select _row, '{key}', 'key is empty', {key}, 'key' from {landing} where _k is null or _k = ''
        """)
        dupkeys = names["dupkeys"]
        con.execute(f"""
            create or replace temp table {dupkeys} as
            select _k from {landing} where _k <> '' group by 1 having count(*) > 1
        """)
        if con.execute(f"select count(*) from {dupkeys}").fetchall()[0][0]:
            con.execute(f"""
                insert into {issues}
                select _row, '{key}', 'duplicate key', {key}, 'key' from (
                    select _row, {key}, row_number() over (partition by _k order by _row) as n
                    from {landing} where _k in (select _k from {dupkeys})
                ) where n > 1
            """)
    return counts


def _write_night(
    con, contract, plan, read, names, as_of, extracted_at, retention, raw_as_table, max_share, url, started
) -> dict:
    """Tonight's versions, quarantine rows, raw view and `meta.extractions` row, in one transaction."""
    landing, issues, rejected, loaded = names["landing"], names["issues"], names["rejected"], names["loaded"]
    carried, scope = names["carried"], names["scope"]
    key = contract.key.lower() if contract.key else None
    counts = dict(read.counts)
    incremental = read.mode == "incremental"
    if incremental:
        # `scope`: the keys whose versions may close tonight: gone from the source (found with the key scan), or
        # read tonight. `carried` (a view, read only when needed): the other keys of the base night's state, still
        # in the source and not read tonight: their versions (and their `loaded` quarantine rows) carry over.
        state = history.state_sql(contract, plan.base)
        con.execute(f"""
            create or replace temp table {scope} as
            select gone as k from {names["gone"]} where gone is not null
            union select _k from {landing} where _k is not null
        """)
        con.execute(f"create or replace temp view {carried} as select _key as k from ({state})"
                    f" where _key not in (select k from {scope})")  # fmt: skip
    else:
        con.execute(f"create or replace temp view {carried} as select cast(null as varchar) as k where false")
    _identify_rejected(con, landing, issues, rejected, key, carried)
    counts["rejected"] = con.execute(f"select count(*) from {rejected}").fetchone()[0]
    not_rejected = f" where _row not in (select _row from {rejected})" if counts["rejected"] else ""
    # A view: the history merge reads it once (no copy of the night's rows). Rows are compared by their values
    # and only the inserted ones hashed (`history.apply_versions`). A table with no key is keyed by its rows'
    # hash and `_occ`, the repeat of the same values in read order.
    if key:
        con.execute(f"create or replace temp view {loaded} as"
                    f" select * exclude (_k), _k as _key from {landing}{not_rejected}")  # fmt: skip
    else:
        values = ", ".join(contract.raw_columns)
        con.execute(f"""
            create or replace temp view {loaded} as
            select *, row_number() over (partition by {values} order by _row) as _occ from {landing}{not_rejected}
        """)
    counts["loaded"] = counts["read"] - counts["rejected"]
    con.execute("begin transaction")
    try:
        history.undo_after(con, contract, plan.base)
        versions = history.apply_versions(con, contract, loaded, scope if incremental else None, as_of, extracted_at)
        counts.update(versions)
        _write_quarantine(con, contract, names, key, as_of, extracted_at)
        base_quarantine = [contract.source, contract.table, plan.base]
        where_base = "source = ? and table_name = ? and _as_of = ? and disposition = 'loaded'"
        if incremental and con.execute(f"select count(*) from raw._quarantine where {where_base}",
                                       base_quarantine).fetchall()[0][0]:  # fmt: skip
            con.execute(
                f"insert into raw._quarantine by name select * replace (cast(? as date) as _as_of)"
                f" from raw._quarantine where {where_base} and source_record_id in (select k from {carried})",
                [as_of, *base_quarantine],
            )
        counts["quarantined"] = history.quarantined(con, contract, as_of)
        # The share is over the night's rows (read and carried over); carried rows only lower it, so they are
        # counted only when the rows read alone put it over the limit.
        read_rows = counts["read"]
        if counts["quarantined"] and (not read_rows or counts["quarantined"] / read_rows > max_share):
            carried_rows = con.execute(f"select count(*) from {carried}").fetchone()[0]
            _check_share(con, contract, issues, counts["quarantined"], read_rows + carried_rows, max_share, url)
        counts["purged"] = len(
            con.execute(
                "delete from raw._quarantine where source = ? and table_name = ? and _as_of < ? returning 1",
                [contract.source, contract.table, as_of - dt.timedelta(days=retention)],
            ).fetchall()
        )
        history.make_raw(con, contract, as_of, raw_as_table)
        counts["total"] = history.rows_total(con, contract, as_of)
        counts["newest"] = history.newest_update(con, contract, as_of, _now_local())
        counts["watermark"] = counts["newest"].isoformat(sep=" ") if counts["newest"] else None
        history.record_extraction(
            con,
            {
                "as_of": as_of, "source": contract.source, "table_name": contract.table, "mode": read.mode,
                "status": "ok", "state_as_of": as_of, "rows_read": counts["read"],
                "rows_inserted": counts["inserted"], "rows_updated": counts["updated"],
                "rows_deleted": counts["deleted"], "rows_total": counts["total"],
                "rows_quarantined": counts["quarantined"], "newest_update": counts["newest"],
                "watermark": counts["watermark"], "extracted_at": extracted_at,
                "seconds": time.perf_counter() - started,
            },
        )  # fmt: skip
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return counts


def _check_share(con, contract, issues, quarantined, rows, max_share, url) -> None:
    """Fail the table when more than `max_share` of its rows break the contract (a broken column)."""
    if not rows or quarantined / rows <= max_share:
        return
    worst = con.execute(
        f"select column_name || ': ' || reason, count(*) from {issues} group by 1 order by 2 desc, 1 limit 1"
    ).fetchone() or ("?", 0)
    raise SourceError(
        f"source {contract.source} ({display_url(url)}): table {contract.table}: {quarantined} of "
        f"{rows} rows break the contract, most often '{worst[0]}' ({worst[1]} rows); "
        "the column does not hold what SOURCES.md says"
    )


def _write_quarantine(con, contract, names, key, as_of, extracted_at) -> None:
    """The night's quarantine rows of the rows read tonight (replacing the night's rows of the table)."""
    landing, issues, rejected = names["landing"], names["issues"], names["rejected"]
    key_expr = key or "cast(null as varchar)"
    con.execute(
        "delete from raw._quarantine where source = ? and table_name = ? and _as_of = ?",
        [contract.source, contract.table, as_of],
    )
    # row_json keeps only what the steward needs to find and fix the row: its key and the bad values.
    con.execute(
        f"""
        insert into raw._quarantine by name
        with per_row as (
            select
                _row,
                string_agg(distinct column_name, ',' order by column_name) as column_name,
                string_agg(distinct column_name || ': ' || reason, '; '
                           order by column_name || ': ' || reason) as reason,
                bool_or(kind = 'key') as is_rejected
            from {issues} group by _row
        ),
        bad_values as (
            -- keys in column order (json_group_object's order depends on the threads)
            select _row, to_json(map_from_entries(
                       list(struct_pack(k := column_name, v := value) order by column_name)
                   ))::varchar as row_json
            from (
                select distinct issues._row, issues.column_name, issues.value from {issues} as issues
                {
            f"union select landing._row, '{key}', landing.{key} from {landing} as landing "
            f"where landing._row in (select _row from {issues})"
            if key
            else ""
        }
            ) group by _row
        )
        select
            ? as source, ? as table_name, landing.{key_expr} as record_key,
            per_row.column_name, per_row.reason, bad_values.row_json,
            cast(? as date) as _as_of, cast(? as timestamp) as _extracted_at,
            coalesce(rejected.source_record_id, trim(landing.{key_expr})) as source_record_id,
            case when per_row.is_rejected then 'rejected' else 'loaded' end as disposition
        from per_row
        join {landing} as landing using (_row)
        join bad_values using (_row)
        left join {rejected} as rejected using (_row)
        order by _row
        """.replace("landing.cast(null as varchar)", "cast(null as varchar)"),
        [contract.source, contract.table, as_of, extracted_at],
    )


def _replay(con, contract, as_of, plan, extracted_at, started, raw_as_table) -> IngestStats:
    """Night `as_of` from the history as of the latest extracted night not after it: no source is read."""
    return _from_history(con, contract, as_of, plan, "replay", None, extracted_at, started, raw_as_table)


def _stale(con, contract, as_of, plan, error, extracted_at, started, raw_as_table) -> IngestStats:
    """The source cannot be read: the night uses the last committed state, marked stale."""
    # The last committed state: the frontier's (a full refresh of the frontier night keeps it when the source is down).
    states = history.committed_states(con, contract)
    stale = history.Plan("stale", plan.frontier, plan.frontier, history.watermark_of(states, plan.frontier))
    return _from_history(con, contract, as_of, stale, "stale", error, extracted_at, started, raw_as_table)


def _from_history(con, contract, as_of, plan, mode, error, extracted_at, started, raw_as_table) -> IngestStats:
    if mode == "replay":
        # A night that was stale stays stale when replayed (same state, same warning for the report).
        before = con.execute(
            "select status, error from meta.extractions where as_of = ? and source = ? and table_name = ?"
            " and state_as_of = ?",
            [as_of, contract.source, contract.table, plan.state_as_of],
        ).fetchone()
        error = before[1] if before and before[0] == "stale" else None
    con.execute("begin transaction")
    try:
        if mode == "stale":
            history.undo_after(con, contract, plan.base)
        history.copy_quarantine(con, contract, as_of, plan.state_as_of)
        history.make_raw(con, contract, as_of, raw_as_table)
        total = history.rows_total(con, contract, as_of)
        quarantined = history.quarantined(con, contract, as_of)
        newest = history.newest_update(con, contract, as_of, _now_local())
        seconds = time.perf_counter() - started
        history.record_extraction(
            con,
            {
                "as_of": as_of, "source": contract.source, "table_name": contract.table, "mode": mode,
                "status": "stale" if error else "ok", "state_as_of": plan.state_as_of, "error": error,
                "rows_read": 0, "rows_inserted": 0, "rows_updated": 0, "rows_deleted": 0, "rows_total": total,
                "rows_quarantined": quarantined, "newest_update": newest, "watermark": plan.watermark,
                "extracted_at": extracted_at, "seconds": seconds,
            },
        )  # fmt: skip
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    rejected = con.execute(
        "select count(*) from raw._quarantine where source = ? and table_name = ? and _as_of = ?"
        " and disposition = 'rejected'",
        [contract.source, contract.table, as_of],
    ).fetchone()[0]
    return IngestStats(
        rows_read=0, rows_loaded=0, rows_quarantined=quarantined, seconds=seconds, reader="history",
        rows_rejected=rejected, mode=mode, state_as_of=plan.state_as_of, rows_total=total,
        watermark=plan.watermark, newest_update=newest, error=error,
    )  # fmt: skip


def _identify_rejected(con, landing: str, issues: str, rejected: str, key: str | None, carried: str) -> None:
    """The rows that cannot load, each with the `source_record_id` it has downstream (unique in the table).

    A sound key (non-empty, first in read order) keeps itself, trimmed, even when the row is rejected for the
    key's type. An empty key becomes `#<n>` (n: the row's rank among the empty-key rows in read order, from 1:
    every read, whole or incremental, reads all of them); the k-th repeat of a key K becomes `K#k` (k ≥ 2).
    Should such a name be taken by another key (read tonight or carried over), `#` is appended until it is not.
    """
    con.execute(f"create or replace temp table {rejected} (_row bigint, source_record_id varchar, synthetic boolean)")
    if not key:
        return
    con.execute(f"""
        insert into {rejected}
        select landing._row,
            case
                when nullif(trim(landing.{key}), '') is null then '#' || row_number() over (
                    partition by nullif(trim(landing.{key}), '') is null order by landing._row)
                when reasons.is_duplicate then trim(landing.{key}) || '#' || row_number() over (
                    partition by trim(landing.{key}) order by landing._row) + 1
                else trim(landing.{key})
            end,
            nullif(trim(landing.{key}), '') is null or reasons.is_duplicate
        from {landing} as landing
        join (
            select _row, bool_or(reason = 'duplicate key') as is_duplicate from {issues}
            where kind = 'key' group by _row
        ) as reasons using (_row)
    """)
    if not con.execute(f"select count(*) from {rejected}").fetchone()[0]:
        return
    real_keys = (
        f"select trim({key}) from {landing} where _row not in (select _row from {rejected} where synthetic)"
        f" union all select k from {carried}"
    )
    for _ in range(10):
        clashes = con.execute(f"""
            select count(*) from {rejected}
            where (synthetic and source_record_id in ({real_keys}))
                or source_record_id in (select source_record_id from {rejected} group by 1 having count(*) > 1)
        """).fetchone()[0]
        if not clashes:
            return
        con.execute(
            f"update {rejected} set source_record_id = source_record_id || '#'"
            f" where synthetic and source_record_id in ({real_keys})"
        )
    raise RuntimeError("could not give the rejected rows distinct record ids")


# --- Dagster assets ------------------------------------------------------------------------------------------

FULL_REFRESH_TAG = "doisoat/full_refresh"


def _metadata(stats: IngestStats, as_of: dt.date) -> dict:
    """The asset's metadata: counts, modes and dates only, never a value of a row."""
    return {
        "as_of": as_of.isoformat(),
        "mode": stats.mode,
        "state_as_of": stats.state_as_of.isoformat() if stats.state_as_of else "",
        "rows_read": stats.rows_read,
        "rows_loaded": stats.rows_loaded,
        "rows_inserted": stats.rows_inserted,
        "rows_updated": stats.rows_updated,
        "rows_deleted": stats.rows_deleted,
        "rows_total": stats.rows_total,
        "rows_quarantined": stats.rows_quarantined,
        "rows_rejected": stats.rows_rejected,
        "quarantine_share": dg.FloatMetadataValue(round(stats.quarantine_share, 6)),
        "values_nulled": stats.values_nulled,
        "values_replaced": stats.values_replaced,
        "values_decoded": stats.values_decoded,
        "quarantine_purged": stats.quarantine_purged,
        "watermark": stats.watermark or "",
        "newest_update": stats.newest_update.isoformat(sep=" ") if stats.newest_update else "",
        "seconds": round(stats.seconds, 3),
        "rows_per_second": round(stats.rows_per_second, 1),
        "reader": stats.reader,
    }


def _ingest_asset(contract: TableContract) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", contract.raw_name])
    is_master = CATALOGUE[contract.source].master

    @dg.asset(
        key=key,
        group_name="raw",
        kinds={"duckdb", "python"},
        partitions_def=NIGHTS,
        backfill_policy=ONE_NIGHT_PER_RUN,
        description=f"`{contract.source}.{contract.table}` as of the night, every value as text: a view of "
        f"`history.{contract.raw_name}` (what breaks the pandera contract is recorded in `raw._quarantine`).",
        tags={"source": contract.source},
        check_specs=[
            dg.AssetCheckSpec(
                name="source_table_not_empty",
                asset=key,
                description=f"`{contract.source}.{contract.table}` has at least one row (warning: an empty "
                "source table usually means a failed export upstream).",
            ),
            dg.AssetCheckSpec(
                name="source_reachable",
                asset=key,
                description=f"`{contract.source}` could be read tonight (warning: when it cannot, the night "
                "uses its last committed state, marked stale).",
            ),
        ],
    )
    def _asset(
        context: AssetExecutionContext,
        warehouse: WarehouseResource,
        sources: SourcesResource,
    ) -> dg.MaterializeResult:
        as_of = night_of(context)
        full_refresh = context.run.tags.get(FULL_REFRESH_TAG, "").lower() == "true"
        start_preparse(as_of, warehouse.resolved_path())  # dbt's parse of tonight, while the sources are read
        con = warehouse.connect()
        try:
            stats = ingest_table(
                con, contract.source, sources.url(contract.source), contract, as_of,
                full_refresh=full_refresh, stale_ok=not is_master,
            )  # fmt: skip
        except SourceUnreachable as exc:
            if contract.source == MASTER:
                raise dg.Failure(
                    description=f"population master unreachable: nothing can be reconciled ({exc})",
                    allow_retries=False,
                ) from None
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except (SourceError, ValueError) as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        finally:
            con.close()
        context.log.info(
            f"{contract.source}.{contract.table}: {stats.mode} (state of {stats.state_as_of}), "
            f"{stats.rows_read} rows read, {stats.rows_inserted} inserted, {stats.rows_updated} updated, "
            f"{stats.rows_deleted} deleted, {stats.rows_total} in the night's state, {stats.rows_quarantined} "
            f"quarantined ({stats.rows_rejected} rejected, {stats.values_nulled} values nulled, "
            f"{stats.values_replaced} replaced, {stats.values_decoded} decoded from a legacy encoding), "
            f"{stats.rows_per_second:,.0f} rows/s via {stats.reader}"
        )
        if stats.error:
            context.log.warning(f"{contract.source}.{contract.table} is stale: {stats.error}")
        return dg.MaterializeResult(
            metadata=_metadata(stats, as_of),
            check_results=[
                dg.AssetCheckResult(
                    check_name="source_table_not_empty",
                    asset_key=key,
                    passed=stats.rows_total > 0,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"rows_total": stats.rows_total},
                ),
                dg.AssetCheckResult(
                    check_name="source_reachable",
                    asset_key=key,
                    passed=stats.mode != "stale",
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"mode": stats.mode, "error": stats.error or ""},
                ),
            ],
        )

    return _asset


ingest_assets: list[dg.AssetsDefinition] = [_ingest_asset(c) for c in CONTRACTS]
