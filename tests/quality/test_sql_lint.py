"""The dbt project's SQL passes sqlfluff (dbt templater, DuckDB dialect, the rules in `.sqlfluff`)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dbt_sql_passes_sqlfluff(tmp_path):
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    env = {**os.environ, "DOISOAT_WAREHOUSE": str(tmp_path / "lint.duckdb")}  # the templater compiles against it
    lint = subprocess.run(
        [str(sqlfluff), "lint", "dbt_project/models", "dbt_project/tests", "--nocolor"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    violations = [line for line in lint.stdout.splitlines() if line.startswith(("==", "L:"))]
    assert lint.returncode == 0, "\n".join(violations[:60]) or lint.stderr[-2000:]
