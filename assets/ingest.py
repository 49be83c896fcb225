"""Ingestion: every source table → DuckDB `raw`, as Arrow batches, checked by its pandera contract.

Each source is reached through its SQLAlchemy URL (SOURCES.md): SQLAlchemy checks that it is reachable and that
the tables and columns of the contract exist; the bulk rows move as Arrow through an ADBC driver (SQLite,
PostgreSQL) or, for any other dialect, through SQLAlchemy in pandas chunks. Every value lands as text
(docs/internal-contracts.md, "Raw layer"); rows breaking the contract go to `raw._quarantine` with a reason.
"""

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import sqlalchemy as sa
from dagster import AssetExecutionContext
from sqlalchemy.engine import make_url

from expectations.contracts import CONTRACTS, TableContract
from orchestration.resources import NightResource, SourcesResource, WarehouseResource

BATCH_ROWS = 200_000
# Above this share of quarantined rows a table is not "a few bad rows" but a broken column: fail loudly.
MAX_QUARANTINE_SHARE = 0.5
_SENTINEL = "__doisoat_sentinel"

QUARANTINE_DDL = """
create table if not exists raw._quarantine (
    source varchar, table_name varchar, record_key varchar, column_name varchar, reason varchar,
    row_json varchar, _as_of date, _extracted_at timestamp
)
"""


class SourceError(Exception):
    """A source cannot be read as SOURCES.md says. The message names source, table and column, never credentials."""


@dataclass(frozen=True)
class IngestStats:
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    seconds: float
    reader: str

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


def _scrub(message: str, url: str) -> str:
    """Remove user name and password of the URL from a driver's message; keep its first line."""
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else ""
    try:
        parsed = make_url(url)
    except Exception:
        return first_line
    for secret in (parsed.password, parsed.username):
        if secret:
            first_line = first_line.replace(str(secret), "***")
    return first_line


def open_engine(source: str, url: str) -> sa.Engine:
    """A SQLAlchemy engine for a source, after checking it is reachable."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise SourceError(f"source {source}: the URL is not a valid SQLAlchemy URL") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            raise SourceError(f"source {source} ({display_url(url)}): database file not found: {path}")
    engine = sa.create_engine(url, pool_pre_ping=False)
    try:
        with engine.connect() as conn:
            sa.inspect(conn).get_table_names()
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        reason = _scrub(getattr(exc, "orig", None) or exc, url)
        raise SourceError(f"source {source} ({display_url(url)}): cannot read the database: {reason}") from None
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


def select_as_text(engine: sa.Engine, table: str, columns: list[str], contract: TableContract) -> str:
    """SQL selecting every contract column as text, named in lower case, in the source's dialect."""
    stmt = sa.select(
        *[sa.cast(sa.column(col), sa.String).label(raw) for col, raw in zip(columns, contract.raw_columns, strict=True)]
    ).select_from(sa.table(table))
    return str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _sqlite_batches(path: str, sql: str, names: list[str], batch_rows: int) -> Iterator[pa_arrow.RecordBatch]:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    # The ADBC SQLite driver infers each column's Arrow type from its first batch; a column that is NULL
    # throughout that batch would be typed INT64 and fail on the first text value. A leading all-text
    # sentinel row fixes every column to string; it is dropped below.
    sentinel = ", ".join(f"'' as {n}" for n in names)
    wrapped = f"select 1 as {_SENTINEL}, {sentinel} union all select 0, * from ({sql})"
    with adbc_sqlite.connect(path) as conn, conn.cursor() as cur:
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

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc_pg.connect(libpq) as conn, conn.cursor() as cur:
        cur.execute(sql)
        yield from cur.fetch_record_batch()


def _sqlalchemy_batches(engine: sa.Engine, sql: str, batch_rows: int) -> Iterator[pa_arrow.RecordBatch]:
    with engine.connect().execution_options(stream_results=True) as conn:
        for chunk in pd.read_sql(sa.text(sql), conn, chunksize=batch_rows, dtype=str):
            yield from pa_arrow.Table.from_pandas(chunk, preserve_index=False).to_batches()


def arrow_batches(
    engine: sa.Engine, url: str, sql: str, contract: TableContract, batch_rows: int = BATCH_ROWS
) -> tuple[str, Iterator[pa_arrow.RecordBatch]]:
    """The rows of `sql` as Arrow record batches of text columns, and the name of the reader used."""
    backend = engine.url.get_backend_name()
    if backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        return "adbc-sqlite", _sqlite_batches(engine.url.database, sql, contract.raw_columns, batch_rows)
    if backend == "postgresql":
        return "adbc-postgresql", _postgres_batches(url, sql)
    return "sqlalchemy", _sqlalchemy_batches(engine, sql, batch_rows)


# --- the contract --------------------------------------------------------------------------------------------


def validate_batch(contract: TableContract, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of `frame` that break the contract: one row per failing row, with `column_name` and `reason`.

    Reasons name the column and the check, never the value (values may be personal data).
    """
    try:
        contract.schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        if cases.empty:  # a schema-level failure (e.g. a missing column) is not about rows
            raise
        reasons = (
            cases.assign(
                index=cases["index"].astype("int64"),
                reason=cases["column"].astype(str) + ": " + cases["check"].astype(str).map(_reason_text),
            )
            .groupby("index", sort=True)
            .agg(
                column_name=("column", lambda c: ",".join(sorted(set(map(str, c))))),
                reason=("reason", lambda r: "; ".join(sorted(set(r)))),
            )
        )
        return reasons
    return pd.DataFrame({"column_name": pd.Series(dtype=str), "reason": pd.Series(dtype=str)})


def _reason_text(check: str) -> str:
    return {"not_nullable": "key is empty", "field_uniqueness": "duplicate key"}.get(check, check)


# --- loading -------------------------------------------------------------------------------------------------


def _with_night(table: pa_arrow.Table, as_of: dt.date, extracted_at: dt.datetime, first_row: int) -> pa_arrow.Table:
    n = table.num_rows
    return (
        table.append_column("_as_of", pa_arrow.repeat(pa_arrow.scalar(as_of, pa_arrow.date32()), n))
        .append_column("_extracted_at", pa_arrow.repeat(pa_arrow.scalar(extracted_at, pa_arrow.timestamp("us")), n))
        .append_column("_row", pa_arrow.array(np.arange(first_row, first_row + n, dtype=np.int64)))
    )


def ingest_table(
    con,
    source: str,
    url: str,
    contract: TableContract,
    as_of: dt.date,
    extracted_at: dt.datetime | None = None,
    batch_rows: int = BATCH_ROWS,
    max_quarantine_share: float = MAX_QUARANTINE_SHARE,
) -> IngestStats:
    """Replace `raw.<table>` with the source table's rows as of `as_of`; quarantine rows breaking the contract."""
    started = time.perf_counter()
    extracted_at = extracted_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine = open_engine(source, url)
    try:
        actual_table, actual_columns = resolve_columns(engine, contract, url)
        sql = select_as_text(engine, actual_table, actual_columns, contract)
        reader, batches = arrow_batches(engine, url, sql, contract, batch_rows)
        rows_read, rows_quarantined = _load(con, contract, batches, as_of, extracted_at, max_quarantine_share, url)
    except SourceError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(
            f"source {source} ({display_url(url)}): table {contract.table} cannot be read: "
            f"{_scrub(getattr(exc, 'orig', None) or exc, url)}"
        ) from None
    except Exception as exc:  # driver errors (ADBC) while streaming
        if isinstance(exc, pa.errors.SchemaErrors):
            raise
        raise SourceError(
            f"source {source} ({display_url(url)}): table {contract.table} cannot be read: "
            f"{type(exc).__name__}: {_scrub(exc, url)}"
        ) from None
    finally:
        engine.dispose()
    return IngestStats(
        rows_read=rows_read,
        rows_loaded=rows_read - rows_quarantined,
        rows_quarantined=rows_quarantined,
        seconds=time.perf_counter() - started,
        reader=reader,
    )


def _load(con, contract, batches, as_of, extracted_at, max_quarantine_share, url) -> tuple[int, int]:
    raw, landing = f"raw.{contract.raw_name}", f"raw.__landing_{contract.raw_name}"
    bad_landing = f"raw.__quarantine_{contract.raw_name}"
    cols_sql = ", ".join(f"{c} varchar" for c in contract.raw_columns)
    con.execute("create schema if not exists raw")
    con.execute(QUARANTINE_DDL)
    con.execute(f"create or replace table {landing} ({cols_sql}, _as_of date, _extracted_at timestamp, _row bigint)")
    con.execute(
        f"create or replace table {bad_landing} ({cols_sql}, _as_of date, _extracted_at timestamp, _row bigint,"
        " _column_name varchar, _reason varchar)"
    )
    rows_read = 0
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = _with_night(pa_arrow.Table.from_batches([batch]), as_of, extracted_at, rows_read)
            failures = validate_batch(contract, batch.to_pandas())
            bad = np.zeros(batch.num_rows, dtype=bool)
            bad[failures.index.to_numpy()] = True
            good_rows = table.filter(pa_arrow.array(~bad))
            con.register("_good_batch", good_rows)
            con.execute(f"insert into {landing} select * from _good_batch")
            con.unregister("_good_batch")
            if bad.any():
                bad_rows = (
                    table.filter(pa_arrow.array(bad))
                    .append_column("_column_name", pa_arrow.array(failures["column_name"].tolist(), pa_arrow.string()))
                    .append_column("_reason", pa_arrow.array(failures["reason"].tolist(), pa_arrow.string()))
                )
                con.register("_bad_batch", bad_rows)
                con.execute(f"insert into {bad_landing} select * from _bad_batch")
                con.unregister("_bad_batch")
            rows_read += batch.num_rows

        if contract.key:
            # pandera saw one batch at a time; a key repeated across batches is found here, keeping the first.
            key = contract.key.lower()
            con.execute(f"""
                insert into {bad_landing}
                select *, '{key}', '{key}: duplicate key' from {landing}
                where _row in (
                    select _row from (
                        select _row, row_number() over (partition by {key} order by _row) as n from {landing}
                    ) where n > 1
                )
            """)
            con.execute(f"delete from {landing} where _row in (select _row from {bad_landing})")

        quarantined = con.execute(f"select count(*) from {bad_landing}").fetchone()[0]
        if rows_read and quarantined / rows_read > max_quarantine_share:
            worst = con.execute(
                f"select _reason, count(*) from {bad_landing} group by 1 order by 2 desc limit 1"
            ).fetchone()
            raise SourceError(
                f"source {contract.source} ({display_url(url)}): table {contract.table}: {quarantined} of "
                f"{rows_read} rows break the contract, most often '{worst[0]}' ({worst[1]} rows); "
                "the column does not hold what SOURCES.md says"
            )

        columns = ", ".join(contract.raw_columns)
        key_expr = f"cast({contract.key.lower()} as varchar)" if contract.key else "null"
        row_struct = ", ".join(f"{c} := {c}" for c in contract.raw_columns)
        con.execute("begin transaction")
        try:
            con.execute(f"create or replace table {raw} as select {columns}, _as_of, _extracted_at from {landing}")
            con.execute(
                "delete from raw._quarantine where source = ? and table_name = ? and _as_of = ?",
                [contract.source, contract.table, as_of],
            )
            con.execute(
                f"""
                insert into raw._quarantine
                select ?, ?, {key_expr}, _column_name, _reason, to_json(struct_pack({row_struct}))::varchar,
                       _as_of, _extracted_at
                from {bad_landing} order by _row
                """,
                [contract.source, contract.table],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        return rows_read, quarantined
    finally:
        con.execute(f"drop table if exists {landing}")
        con.execute(f"drop table if exists {bad_landing}")


# --- Dagster assets ------------------------------------------------------------------------------------------


def _ingest_asset(contract: TableContract) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", contract.raw_name],
        group_name="raw",
        kinds={"duckdb", "python"},
        description=f"`{contract.source}.{contract.table}` as of the night, every value as text "
        "(rows breaking the pandera contract go to `raw._quarantine`).",
        tags={"source": contract.source},
    )
    def _asset(
        context: AssetExecutionContext,
        night: NightResource,
        warehouse: WarehouseResource,
        sources: SourcesResource,
    ) -> dg.MaterializeResult:
        as_of = night.date()
        con = warehouse.connect()
        try:
            stats = ingest_table(con, contract.source, sources.url(contract.source), contract, as_of)
        except SourceError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        finally:
            con.close()
        context.log.info(
            f"{contract.source}.{contract.table}: {stats.rows_loaded} rows loaded, "
            f"{stats.rows_quarantined} quarantined, {stats.rows_per_second:,.0f} rows/s via {stats.reader}"
        )
        return dg.MaterializeResult(
            metadata={
                "as_of": as_of.isoformat(),
                "rows_read": stats.rows_read,
                "rows_loaded": stats.rows_loaded,
                "rows_quarantined": stats.rows_quarantined,
                "seconds": round(stats.seconds, 3),
                "rows_per_second": round(stats.rows_per_second, 1),
                "reader": stats.reader,
            }
        )

    return _asset


ingest_assets: list[dg.AssetsDefinition] = [_ingest_asset(c) for c in CONTRACTS]
