"""A fingerprint of each mart for one night: before/after a change, the marts must be identical.

    uv run --frozen python bench/mart_hash.py --warehouse /tmp/doisoat-bench-night/warehouse.duckdb --as-of 2025-11-20

Per mart of `marts` (every table with an `as_of` column): the night's row count and the MD5 of its rows, each
rendered as text, sorted (so the order dbt wrote them in does not matter). Prints one line per mart; with
`--json`, writes them too. Two warehouses hold the same marts for the night when every line is equal.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def mart_fingerprints(warehouse: Path, as_of: str) -> dict[str, dict]:
    """{mart: {rows, md5}} of the night's rows of every mart keyed by as_of."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.columns where table_schema = 'marts'"
                " and column_name = 'as_of' order by table_name"
            ).fetchall()
        ]
        out = {}
        for mart in marts:
            rows, digest = con.execute(
                "select count(*), md5(coalesce(string_agg(cast(m as varchar), chr(10)"
                f" order by cast(m as varchar)), '')) from marts.{mart} as m where as_of = cast(? as date)",
                [as_of],
            ).fetchone()
            out[mart] = {"rows": int(rows), "md5": digest}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    prints = mart_fingerprints(args.warehouse, args.as_of)
    for mart, info in prints.items():
        print(f"{mart:<24} {info['rows']:>9} rows  md5 {info['md5']}")
    if args.json:
        args.json.write_text(json.dumps(prints, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
