"""The shape of one source table (SOURCES.md) and the pandera schema that enforces it on raw text."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

# Type families of SOURCES.md. Raw values arrive as the text the source renders (CAST AS VARCHAR), so a
# contract checks that the text of a typed column really is of that type; VARCHAR columns accept anything.
VARCHAR, INTEGER, DATE, TIMESTAMP = "VARCHAR", "INTEGER", "DATE", "TIMESTAMP"

_INTEGER_RE = r"[+-]?\d+"
_DATE_RE = r"\d{4}-\d{2}-\d{2}"
_TIMESTAMP_RE = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([+-]\d{2}(:?\d{2})?|Z)?"


def _is_integer(s: pd.Series) -> pd.Series:
    return s.isna() | s.str.fullmatch(_INTEGER_RE).fillna(False).astype(bool)


def _is_date(s: pd.Series) -> pd.Series:
    shaped = s.str.fullmatch(_DATE_RE).fillna(False).astype(bool)
    parsed = pd.to_datetime(s.where(shaped), format="%Y-%m-%d", errors="coerce").notna()
    return s.isna() | (shaped & parsed)


def _is_timestamp(s: pd.Series) -> pd.Series:
    shaped = s.str.fullmatch(_TIMESTAMP_RE).fillna(False).astype(bool)
    # Only the calendar part needs checking beyond the shape: 2024-02-30 is shaped right but no date.
    parsed = pd.to_datetime(s.where(shaped).str.slice(0, 10), format="%Y-%m-%d", errors="coerce").notna()
    return s.isna() | (shaped & parsed)


# A sufficient condition for each type check, in DuckDB SQL (ASCII digits, years 1000-9999, a real calendar
# date): every value it accepts the pandera check accepts too. Ingestion evaluates it over the whole table in
# one vectorised pass and hands only the rows it does not accept to the pandera schema, which stays the
# contract and decides (and words) every failure. `{c}` is the column.
_SQL_SURELY_VALID = {
    INTEGER: "regexp_full_match({c}, '[+-]?[0-9]+')",
    DATE: "(regexp_full_match({c}, '[1-9][0-9]{{3}}-[0-9]{{2}}-[0-9]{{2}}')"
    " and try_strptime({c}, '%Y-%m-%d') is not null)",
    TIMESTAMP: "(regexp_full_match({c}, '[1-9][0-9]{{3}}-[0-9]{{2}}-[0-9]{{2}}"
    "([ T][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}([.][0-9]+)?)?)?([+-][0-9]{{2}}(:?[0-9]{{2}})?|Z)?')"
    " and try_strptime(left({c}, 10), '%Y-%m-%d') is not null)",
}

_TYPE_CHECKS = {
    INTEGER: pa.Check(_is_integer, name="is_integer", error="not an integer"),
    DATE: pa.Check(_is_date, name="is_date", error="not a date (YYYY-MM-DD)"),
    TIMESTAMP: pa.Check(_is_timestamp, name="is_timestamp", error="not a timestamp"),
}


@dataclass(frozen=True)
class TableContract:
    """One source table: its columns (SOURCES.md names and SQL type families) and primary key."""

    source: str
    table: str
    columns: tuple[tuple[str, str], ...]
    key: str | None = None
    # The column recording each row's last change (SOURCES.md), which drives incremental extraction; None
    # when the table has none (its changes are found by comparing key and row hash).
    update_column: str | None = None
    # dbt's staging keeps one normalisation per version of this table's rows, addressed by the row hash `_hash`
    # (a `<model>_versions` model; tests/ingest/test_compare_by_value.py checks the two agree). Only such tables,
    # and a table with no key (whose `_key` is built from the hash), pay for hashing every row they insert.
    versioned: bool = False

    @property
    def row_hashed(self) -> bool:
        """Whether ingestion writes each inserted version's `_hash`: read by dbt's staging (versioned), or the
        base of a keyless row's `_key`. Else the history's `_hash` is NULL."""
        return self.versioned or self.key is None

    @property
    def raw_name(self) -> str:
        """Name of the table in the warehouse's `raw` schema."""
        return f"{self.source}__{self.table.lower()}"

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def raw_columns(self) -> list[str]:
        """Column names as they are in `raw` (lower case)."""
        return [name.lower() for name, _ in self.columns]

    @property
    def typed_columns(self) -> list[str]:
        """Raw names of the columns whose text the contract checks (INTEGER, DATE, TIMESTAMP)."""
        return [name.lower() for name, family in self.columns if family in _SQL_SURELY_VALID]

    def sql_needs_check(self, alias: str = "") -> str | None:
        """DuckDB SQL true for a row that the pandera type checks must look at (None: no typed column).

        False only where every typed value is NULL or surely valid (`_SQL_SURELY_VALID`): such a row passes the
        pandera checks, so the schema need only validate the rows this selects.
        """
        prefix = f"{alias}." if alias else ""
        parts = []
        for name, family in self.columns:
            if family in _SQL_SURELY_VALID:
                column = prefix + name.lower()
                sure = _SQL_SURELY_VALID[family].format(c=column)
                parts.append(f"({column} is not null and not coalesce({sure}, false))")
        return " or ".join(parts) if parts else None

    def schema(self, check_keys: bool = True) -> pa.DataFrameSchema:
        """The pandera schema checked on raw text rows (columns in lower case).

        `check_keys=False` leaves out the key's not-empty and unique checks: ingestion checks those over the
        whole table (trimmed) rather than per batch.
        """
        columns = {}
        for name, family in self.columns:
            is_key = check_keys and self.key is not None and name == self.key
            checks = [_TYPE_CHECKS[family]] if family in _TYPE_CHECKS else []
            columns[name.lower()] = pa.Column(
                dtype=None,  # every raw value is text; the checks decide what the text must look like
                checks=checks,
                nullable=not is_key,
                unique=is_key,
                report_duplicates="exclude_first",
                required=True,
            )
        return pa.DataFrameSchema(columns, strict=False, name=f"{self.source}.{self.table}")


def contract(
    source: str,
    table: str,
    columns: str,
    key: str | None = None,
    updated: str | None = None,
    versioned: bool = False,
) -> TableContract:
    """Build a contract from a compact 'name TYPE, name TYPE' list."""
    pairs = tuple(tuple(part.split()) for part in columns.split(","))
    return TableContract(source, table, tuple((n.strip(), t.strip()) for n, t in pairs), key, updated, versioned)


@dataclass(frozen=True)
class SourceSpec:
    """One source system (SOURCES.md): its name, the variable holding its SQLAlchemy URL, its tables."""

    name: str
    url_variable: str
    default_url: str
    tables: tuple[TableContract, ...]
    label_vi: str
    label_en: str
    # The authoritative master: without it nothing can be reconciled.
    master: bool = False


def source(name: str, tables: tuple[TableContract, ...], label_vi: str, label_en: str, master: bool = False):
    """A source with SOURCES.md's URL variable (`DOISOAT_<NAME>_URL`) and embedded SQLite default."""
    return SourceSpec(
        name, f"DOISOAT_{name.upper()}_URL", f"sqlite:///data/sources/{name}.sqlite", tables, label_vi, label_en, master
    )
