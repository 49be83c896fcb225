"""Compare what two ingestions wrote: every `history.*` table, every `raw.*` view, `raw._quarantine` and
`meta.extractions`.

    uv run --frozen python bench/ingest_compare.py A.duckdb B.duckdb
    uv run --frozen python bench/ingest_compare.py A.duckdb --save a.json   # digests only (one warehouse copy)
    uv run --frozen python bench/ingest_compare.py a.json B.duckdb

Prints, per table, the row count and the MD5 of the sorted rows of each warehouse (extraction clock columns
left out: `_extracted_at`, `seconds`), and `same` or `DIFFERENT`. Only hashes and counts are printed.
"""

import argparse
import json
import sys

import duckdb

CLOCK = {"_extracted_at", "extracted_at", "seconds"}


def digests(path: str) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the sorted rows) per compared table of a warehouse, read only."""
    con = duckdb.connect(path, read_only=True)
    try:
        tables = [f"{s}.{t}" for (s, t) in con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = 'history'"
            " or (table_schema = 'raw' and table_type = 'VIEW') order by 1, 2"
        ).fetchall()] + ["raw._quarantine", "meta.extractions"]  # fmt: skip
        out = {}
        for table in tables:
            schema, name = table.split(".")
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                    " order by ordinal_position",
                    [schema, name],
                ).fetchall()
                if c not in CLOCK
            ]
            cols = ", ".join(f'"{c}" := "{c}"' for c in columns)
            out[table] = list(
                con.execute(
                    f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) from"
                    f" (select to_json(struct_pack({cols}))::varchar as r from {table})"
                ).fetchone()
            )
        return out
    finally:
        con.close()


def _load(path: str) -> dict:
    if path.endswith(".json"):
        with open(path) as f:
            return json.load(f)
    return digests(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("a", help="a warehouse, or digests saved with --save (.json)")
    parser.add_argument("b", nargs="?", help="the other warehouse or digests")
    parser.add_argument("--save", help="write the digests of `a` to this JSON file and stop")
    args = parser.parse_args()
    if args.save:
        with open(args.save, "w") as f:
            json.dump(_load(args.a), f, indent=1, sort_keys=True)
        return
    a, b = _load(args.a), _load(args.b)
    same = True
    for table in sorted(set(a) | set(b)):
        left, right = a.get(table), b.get(table)
        verdict = "same" if left == right else "DIFFERENT"
        same &= left == right
        print(f"{table:<40} {left[0] if left else '-':>10} {right[0] if right else '-':>10}  {verdict}")
    print("identical" if same else "NOT identical")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
