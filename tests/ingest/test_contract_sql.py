"""The SQL pre-check of the type checks accepts only what the pandera contract accepts (it may defer more)."""

import duckdb
import pandas as pd
import pyarrow as pa

from expectations.contracts.base import contract

VALUES = [
    None, "", " ", "0", "-12", "+7", "12 ", " 12", "1e3", "1.5", "٣4", "１２", "99999999999999999999999",
    "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "0000-01-01", "0999-12-31",
    "1000-01-01", "1677-09-21", "2262-04-12", "9999-12-31", "２０２４-01-01", "2024-01-0１", "2024-1-05",
    "2024-01-01 10:00", "2024-01-01T10:00:00", "2024-01-01 10:00:00.123456", "2024-01-01 10:00:00+07:00",
    "2024-01-01 10:00:00+0700", "2024-01-01Z", "2024-01-01 25:61:61", "2024-01-01 10", "2024-01-01 10:1٣",
    "2024-02-30 10:00:00", "2024-01-01\n", "2024-01-01 10:00:00 ", "x2024-01-01", "2024/01/01",
]  # fmt: skip


def test_sql_precheck_defers_every_value_pandera_rejects():
    table = contract("s", "t", "k VARCHAR, i INTEGER, d DATE, ts TIMESTAMP", key="k")
    frame = pd.DataFrame({"k": [str(n) for n in range(len(VALUES))], "i": VALUES, "d": VALUES, "ts": VALUES})
    with duckdb.connect() as con:
        con.register("t", pa.Table.from_pandas(frame, preserve_index=False))
        needs = {
            c: set(
                con.execute(f"select k from t where {contract('s', 't', f'k VARCHAR, {c} {f}').sql_needs_check()}")
                .fetchnumpy()["k"]
                .tolist()
            )
            for c, f in (("i", "INTEGER"), ("d", "DATE"), ("ts", "TIMESTAMP"))
        }
        needs_any = set(con.execute(f"select k from t where {table.sql_needs_check()}").fetchnumpy()["k"].tolist())
    try:
        table.schema(check_keys=False).validate(frame, lazy=True)
        failing = pd.DataFrame(columns=["index", "column"])
    except Exception as errors:  # pandera.errors.SchemaErrors
        failing = errors.failure_cases
    for column, deferred in needs.items():
        rejected = {frame["k"][int(i)] for i in failing.loc[failing["column"] == column, "index"]}
        assert rejected, column
        assert rejected <= deferred, (column, sorted(rejected - deferred))
    assert needs_any == set().union(*needs.values())
    # plain values pass the SQL pre-check without pandera
    assert "13" not in needs["d"] and "27" not in needs["ts"] and "3" not in needs["i"]
