"""Per-rule precision and recall of a night's `marts.fct_findings` against the simulator's ground truth.

    uv run --frozen python bench/findings_eval.py --warehouse data/warehouse.duckdb \
        --truth data/sources/ground_truth.parquet [--deterministic]

`--deterministic` scores against `rule_codes_deterministic` (a night run without the Splink asset); by default
against `rule_codes` (perfect linkage). Prints counts only: no record key leaves the warehouse.
"""

import argparse
import json
from pathlib import Path

import duckdb
import pandas as pd

from tests.reconciliation.truth import expected_findings, per_rule_scores


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    parser.add_argument("--truth", type=Path, default=Path("data/sources/ground_truth.parquet"))
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    as_of = json.loads(args.truth.with_suffix(".json").read_text())["as_of"]
    truth = pd.read_parquet(args.truth)
    column = "rule_codes_deterministic" if args.deterministic else "rule_codes"
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        actual = con.execute("select * from marts.fct_findings where as_of = ?", [as_of]).df()
    scores = per_rule_scores(expected_findings(truth, column), actual)
    print(f"as_of {as_of}, truth column {column}")
    print(scores.to_markdown(floatfmt=("", ".0f", ".0f", ".0f", ".4f", ".4f")))


if __name__ == "__main__":
    main()
