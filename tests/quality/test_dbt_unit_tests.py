"""dbt's unit tests (the models' SQL on hand-made rows) pass: CI runs them here, so that nights need not."""

import json
import os
import shutil
import subprocess

from assets.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR


def test_dbt_unit_tests_pass(tiny_night, tmp_path):
    """Every unit test of the dbt project, on a copy of the tiny night's warehouse (their inputs' column types)."""
    from tests.support import AS_OF

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(tiny_night, warehouse)
    target = tmp_path / "target"
    command = [
        DBT_EXECUTABLE,
        "test",
        "--select",
        "test_type:unit",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--vars",
        json.dumps({"as_of": AS_OF.isoformat()}),
        "--quiet",
    ]
    done = subprocess.run(
        command, env={**os.environ, "DOISOAT_WAREHOUSE": str(warehouse)}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:]
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert len(results) == len(manifest["unit_tests"]) >= 10
    assert {r["status"] for r in results} == {"pass"}
