"""The history of every source row, nights of extraction, and `meta.extractions` (docs/internal-contracts.md).

`history.<raw_name>` keeps every version of every loadable source row with its validity in nights
(`_valid_from` inclusive, `_valid_to` exclusive, NULL while current); `raw.<raw_name>` is a view of the versions
valid on the night being run, so dbt reads the state of the sources as of that night, whatever they hold now.

Why not dbt snapshots (checked in dbt-core 1.11.16 as installed, its snapshot macros, and the 1.9+ documentation
of `hard_deletes`): a snapshot's `dbt_valid_from` / `dbt_valid_to` are the row's `updated_at` (timestamp
strategy) or `snapshot_get_time()`, the run's clock (check strategy, and every hard delete, whether
`invalidate` or `new_record`), never the night being reconciled, so a rerun of a past night cannot ask for "the
state as of night D"; the snapshot's `select` is the whole source query on every run (deletes are found by
comparing all of it), and it runs inside dbt, outside the Arrow/ADBC readers and pandera contract of the
ingestion; and a snapshot that ran is merged for good: nothing undoes it when the night fails later, so a killed
night leaves versions of a night that never committed. Here versions carry nights, the history written after
the last committed night is undone before a night is (re)extracted, and a past night is replayed from the
history without reading the sources.

Nights, per table (F = the frontier: the latest committed night whose state was extracted, `state_as_of`):
* D > F: undo the history written after F (uncommitted), then extract — incremental from F's watermark, or
  whole when there is no F or a full refresh is asked.
* D ≤ F: replay — no source is read; the state is the history as of the latest extracted night ≤ D.
* Full refresh with D == F: undo D and extract whole.
History, quarantine rows, the raw view and the `meta.extractions` row of a table are written in one DuckDB
transaction: a killed night leaves each table before or after.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from assets.resources import table_exists
from expectations.contracts import TableContract

COMMITTED = ("published", "complete")
DEFAULT_LOOKBACK_DAYS = 1

EXTRACTIONS_DDL = """
create table if not exists meta.extractions (
    as_of date, source varchar, table_name varchar, mode varchar, status varchar, state_as_of date,
    error varchar, rows_read bigint, rows_inserted bigint, rows_updated bigint, rows_deleted bigint,
    rows_total bigint, rows_quarantined bigint, newest_update timestamp, watermark varchar,
    extracted_at timestamp, seconds double
)
"""


class NightOrderError(ValueError):
    """A night cannot be run in the asked mode given the nights already committed (one line)."""


@dataclass(frozen=True)
class Plan:
    """What a night does with one table: its mode, the committed night its state builds on, the watermark."""

    mode: str  # 'full' | 'incremental' | 'replay'
    base: dt.date | None  # history after this night is undone before extracting (None: all of it)
    state_as_of: dt.date | None  # replay: the extracted night whose state the night uses
    watermark: str | None  # incremental: the base night's high-water mark (text)
    frontier: dt.date | None = None  # the latest committed extracted night (a stale night uses its state)


def lookback_days(environ: dict[str, str] | None = None) -> int:
    """Days re-read before the watermark's date (`DOISOAT_WATERMARK_LOOKBACK_DAYS`, default 1)."""
    value = (os.environ if environ is None else environ).get("DOISOAT_WATERMARK_LOOKBACK_DAYS", "").strip()
    if not value:
        return DEFAULT_LOOKBACK_DAYS
    if not value.isdigit():
        raise ValueError(f"DOISOAT_WATERMARK_LOOKBACK_DAYS must be a whole number of days ≥ 0, got {value!r}")
    return int(value)


def history_table(contract: TableContract) -> str:
    return f"history.{contract.raw_name}"


def ensure_tables(con, contract: TableContract) -> None:
    """Create `meta.extractions` and the table's history if missing."""
    con.execute("create schema if not exists meta")
    con.execute("create schema if not exists history")
    con.execute("create schema if not exists raw")
    con.execute(EXTRACTIONS_DDL)
    cols = ", ".join(f"{c} varchar" for c in contract.raw_columns)
    con.execute(
        f"create table if not exists {history_table(contract)} ({cols}, _key varchar, _hash varchar,"
        " _valid_from date, _valid_to date, _closed varchar, _extracted_at timestamp)"
    )


def _has_night_status(con) -> bool:
    return table_exists(con, "meta", "night_status")


def committed_states(con, contract: TableContract) -> list[tuple[dt.date, dt.date, str | None]]:
    """(night, state_as_of, watermark) of the table's extraction rows on committed nights, by night."""
    if not _has_night_status(con):
        return []
    return con.execute(
        """
        select e.as_of, e.state_as_of, e.watermark from meta.extractions as e
        join meta.night_status as s on s.as_of = e.as_of
        where e.source = ? and e.table_name = ? and s.status in ('published', 'complete')
            and e.state_as_of is not null
        order by e.as_of
        """,
        [contract.source, contract.table],
    ).fetchall()


def watermark_of(states, night: dt.date) -> str | None:
    rows = [w for _, state, w in states if state == night]
    return rows[-1] if rows else None


def plan_night(con, contract: TableContract, as_of: dt.date, full_refresh: bool) -> Plan:
    """The mode of night `as_of` for the table, from the committed nights (module docstring)."""
    states = committed_states(con, contract)
    extracted = sorted({state for _, state, _ in states})
    frontier = extracted[-1] if extracted else None
    if frontier is None or as_of > frontier:
        if full_refresh or frontier is None:
            return Plan("full", frontier, None, watermark_of(states, frontier), frontier)
        return Plan("incremental", frontier, None, watermark_of(states, frontier), frontier)
    if full_refresh:
        if as_of == frontier:
            before = [n for n in extracted if n < as_of]
            base = before[-1] if before else None
            return Plan("full", base, None, watermark_of(states, base), frontier)
        raise NightOrderError(
            f"night {as_of} cannot be refreshed in full: night {frontier} was extracted after it"
            " (a full refresh rewrites only the latest extracted night)"
        )
    earlier = [n for n in extracted if n <= as_of]
    if not earlier:
        raise NightOrderError(f"night {as_of} precedes the first extraction {extracted[0]}")
    return Plan("replay", frontier, earlier[-1], watermark_of(states, earlier[-1]), frontier)


def undo_after(con, contract: TableContract, base: dt.date | None) -> None:
    """Forget the history written by nights after `base` (all of it when None): versions opened are deleted,
    versions closed are reopened."""
    table = history_table(contract)
    if base is None:
        con.execute(f"delete from {table}")
        return
    con.execute(f"delete from {table} where _valid_from > ?", [base])
    con.execute(f"update {table} set _valid_to = null, _closed = null where _valid_to > ?", [base])


def state_sql(contract: TableContract, night: dt.date) -> str:
    """SQL of the versions valid on `night`."""
    return (
        f"select * from {history_table(contract)} where _valid_from <= date '{night.isoformat()}'"
        f" and (_valid_to is null or _valid_to > date '{night.isoformat()}')"
    )


def make_raw(con, contract: TableContract, as_of: dt.date, as_table: bool = False) -> None:
    """`raw.<raw_name>`: the night's state with the columns dbt reads (a view; a table when `as_table`).

    `_hash` (of all raw values) addresses a row's version: dbt's staging keeps each version's normalisation by it
    (versioned tables; NULL in the versions of other keyed tables written since they stopped being hashed).
    """
    columns = ", ".join(contract.raw_columns)
    kind = "table" if as_table else "view"
    existing = con.execute(
        "select table_type from information_schema.tables where table_schema = 'raw' and table_name = ?",
        [contract.raw_name],
    ).fetchone()
    if existing:  # a table in warehouses written before the history, or with `as_table`
        con.execute(f"drop {'view' if existing[0] == 'VIEW' else 'table'} raw.{contract.raw_name}")
    con.execute(
        f"create {kind} raw.{contract.raw_name} as select {columns}, date '{as_of.isoformat()}' as _as_of,"
        f" _extracted_at, _hash from ({state_sql(contract, as_of)})"
    )


def hash_sql(columns: list[str], alias: str = "") -> str:
    """A NULL-safe hash of all raw values (JSON keeps NULL apart from the text 'null')."""
    prefix = f"{alias}." if alias else ""
    return f"md5(to_json(list_value({', '.join(prefix + c for c in columns)})))"


def parsed_update_sql(column: str) -> str:
    """The update value as a timestamp when it is one (else NULL)."""
    return (
        f"coalesce(try_cast({column} as timestamp), try_cast(left({column}, 19) as timestamp),"
        f" try_cast(left({column}, 10) as timestamp))"
    )


def newest_update(con, contract: TableContract, night: dt.date, now: dt.datetime) -> dt.datetime | None:
    """The largest update value of the night's state that is a timestamp and not after `now` (else NULL)."""
    if not contract.update_column:
        return None
    parsed = parsed_update_sql(contract.update_column.lower())
    return con.execute(
        f"select max(u) from (select {parsed} as u from ({state_sql(contract, night)})) where u <= ?", [now]
    ).fetchone()[0]


def record_extraction(con, row: dict) -> None:
    """Replace the `meta.extractions` row of (night, source, table) by `row`."""
    con.execute(
        "delete from meta.extractions where as_of = ? and source = ? and table_name = ?",
        [row["as_of"], row["source"], row["table_name"]],
    )
    names = [
        "as_of", "source", "table_name", "mode", "status", "state_as_of", "error", "rows_read", "rows_inserted",
        "rows_updated", "rows_deleted", "rows_total", "rows_quarantined", "newest_update", "watermark",
        "extracted_at", "seconds",
    ]  # fmt: skip
    con.execute(
        f"insert into meta.extractions ({', '.join(names)}) values ({', '.join('?' * len(names))})",
        [row.get(n) for n in names],
    )


def rows_total(con, contract: TableContract, night: dt.date) -> int:
    return con.execute(f"select count(*) from ({state_sql(contract, night)})").fetchone()[0]


def quarantined(con, contract: TableContract, night: dt.date) -> int:
    return con.execute(
        "select count(*) from raw._quarantine where source = ? and table_name = ? and _as_of = ?",
        [contract.source, contract.table, night],
    ).fetchone()[0]


def copy_quarantine(con, contract: TableContract, night: dt.date, state_as_of: dt.date) -> None:
    """The quarantine rows of a replayed night: its own when it is the extracted night, else that night's."""
    if night == state_as_of:
        return
    con.execute(
        "delete from raw._quarantine where source = ? and table_name = ? and _as_of = ?",
        [contract.source, contract.table, night],
    )
    con.execute(
        "insert into raw._quarantine by name select * replace (cast(? as date) as _as_of) from raw._quarantine"
        " where source = ? and table_name = ? and _as_of = ?",
        [night, contract.source, contract.table, state_as_of],
    )


def apply_versions(con, contract: TableContract, loaded: str, scope: str | None, night: dt.date, at) -> dict:
    """Write tonight's versions: `loaded` (a table or view, read once) has the loadable rows read tonight: raw
    columns, and `_key` (a keyed table) or `_occ` (a table with no key: the repeat of the same values in read
    order, from 1; its `_key` is `<_hash>#<_occ>`).

    Current versions are closed as `update` when their key is read with other values, and as `delete` when
    their key is no longer loadable: absent from the source, or read tonight and rejected. `scope` is a table
    (`k`) of the trimmed keys the night may close (incremental: keys not in the source, or read tonight; it
    holds every key of `loaded`); None closes every current key not loaded (full read).

    Rows are compared with the current versions by their values (NULL-safe, column by column), which is what
    comparing their `_hash` (md5 of the JSON list of the values, `hash_sql`) decides, without hashing every row
    read: only the rows inserted tonight are hashed, and only in a versioned table (`TableContract.versioned`:
    dbt's staging addresses its versions by `_hash`) or a table with no key (its `_key` is built from the hash).
    Elsewhere `_hash` is NULL: hashing mui_tiem's 5.9 M rows was 3.5 of its 12.5 CPU s on a first night.
    """
    table = history_table(contract)
    columns = ", ".join(contract.raw_columns)
    keyed = contract.key is not None
    row_hash = hash_sql(contract.raw_columns) if contract.row_hashed else "cast(null as varchar)"
    new_key = "_key" if keyed else "_hash || '#' || _occ"
    if not con.execute(f"select count(*) from (select 1 from {table} where _valid_to is null limit 1)").fetchone()[0]:
        # No current version (a first night, or a full refresh of it after the undo): every row read is an
        # insert, nothing is closed: one pass over `loaded` (a view is enough), no join.
        inserted = con.execute(
            f"insert into {table} select {columns}, {new_key}, _hash, ?, null, null, ?"
            f" from (select *, {row_hash} as _hash from {loaded})",
            [night, at],
        ).fetchone()[0]
        return {"updated": 0, "inserted": inserted, "deleted": 0}
    changes = f"_changes_{contract.raw_name}"  # a temp table
    # Incremental: only the current versions of the keys in scope can change (every key read tonight is in it).
    in_scope = f" and _key in (select k from {scope})" if scope else ""
    if keyed:
        current_cols, new_cols, on = f"_key, {columns}", f"_key, {columns}", "h._key = n._key"
        differs = " or ".join(f"h.{c} is distinct from n.{c}" for c in contract.raw_columns)
    else:  # the same values and repeat are the same key (`_key` = `<hash>#<repeat>`, the hash 32 characters)
        current_cols, new_cols = f"_key, {columns}, cast(substr(_key, 34) as bigint) as _occ", f"{columns}, _occ"
        on = " and ".join(["h._occ = n._occ", *(f"h.{c} is not distinct from n.{c}" for c in contract.raw_columns)])
        differs = "false"
    # One join of the current versions (of the keys in scope) with tonight's rows finds every change and keeps
    # the new rows' values; the writes then touch only those.
    new_values = ", ".join(f"n.{c}" for c in contract.raw_columns)
    matched = "h._key is not null"
    new_side = "n._key is not null" if keyed else "n._occ is not null"
    con.execute(f"""
        create or replace temp table {changes} as
        select *, case when action <> 'delete' then {row_hash} end as _new_hash from (
            select h._key as _old_key, {"n._key" if keyed else "n._occ"} as _new,
                case when not ({matched}) then 'insert' when not ({new_side}) then 'delete' else 'update' end
                    as action,
                {new_values}
            from (select {current_cols} from {table} where _valid_to is null{in_scope}) as h
            full join (select {new_cols} from {loaded}) as n on {on}
            where not ({matched}) or not ({new_side}) or {differs}
        )
    """)
    key_of_new = "_new" if keyed else "_new_hash || '#' || _new"
    try:
        counts = dict(
            zip(
                ("updated", "inserted", "deleted"),
                con.execute(f"""
                    select count(*) filter (where action = 'update'), count(*) filter (where action = 'insert'),
                        count(*) filter (where action = 'delete')
                    from {changes}
                """).fetchone(),
                strict=True,
            )
        )
        if counts["updated"] or counts["deleted"]:
            con.execute(
                f"update {table} set _valid_to = ?, _closed = c.action from {changes} as c"
                f" where {table}._valid_to is null and {table}._key = c._old_key and c.action <> 'insert'",
                [night],
            )
        if counts["updated"] or counts["inserted"]:
            con.execute(
                f"insert into {table} select {columns}, {key_of_new}, _new_hash, ?, null, null, ? from {changes}"
                " where action <> 'delete'",
                [night, at],
            )
    finally:
        con.execute(f"drop table if exists {changes}")
    return counts
