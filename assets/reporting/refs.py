"""Stable references for the rows of a masked report: a keyed hash of source and record key.

A masked report cannot show a population record's key (it is the personal ID), and masked IDs collide. Each
exception row therefore carries `reference`: the first 16 hex digits of SHA-256 over the secret key, the source
and the record's key. The same record has the same reference every night (while the key is unchanged); the key
is kept outside the report (env `DOISOAT_REPORT_REF_KEY`, else a file `report-ref.key` beside the warehouse,
created on first use, readable by its owner only), so the report alone does not reveal the record. An entitled
reader with the warehouse and the key resolves a reference with `resolve`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path

import pandas as pd

ENV_KEY = "DOISOAT_REPORT_REF_KEY"
KEY_FILE = "report-ref.key"
SEPARATOR = "\x1f"
DIGITS = 16  # 64 bits: no collision expected among a province's few million records


def reference_key(warehouse: Path) -> str:
    """The secret of the references: `DOISOAT_REPORT_REF_KEY`, else `<warehouse folder>/report-ref.key`."""
    if os.environ.get(ENV_KEY):
        return os.environ[ENV_KEY]
    path = Path(warehouse).resolve().parent / KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


def reference(key: str, source: str, record_id: str) -> str:
    """The reference of one record (the same as `reference_sql` computes in the warehouse)."""
    digest = hashlib.sha256(SEPARATOR.join([key, source, record_id]).encode("utf-8")).hexdigest()
    return digest[:DIGITS]


def reference_sql(source: str, record_id: str, key: str) -> str:
    """DuckDB expression of `reference` over columns `source`, `record_id` and the key expression `key`."""
    return f"left(sha256({key} || chr(31) || {source} || chr(31) || cast({record_id} as varchar)), {DIGITS})"


def resolve(warehouse: Path, as_of: dt.date, references: list[str], key: str | None = None) -> pd.DataFrame:
    """For an entitled reader: the (source, source_record_id) of each reference among the night's findings."""
    import duckdb

    key = key or reference_key(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            f"select distinct {reference_sql('source', 'source_record_id', '$key')} as reference, source,"
            " source_record_id from marts.fct_findings where as_of = $as_of"
            f" and {reference_sql('source', 'source_record_id', '$key')} in (select unnest($refs))",
            {"key": key, "as_of": as_of, "refs": [r.strip().lower() for r in references]},
        ).df()
    finally:
        con.close()
