"""Incremental staging (issue 9): the person-like models read their kept per-version normalisation.

On a copy of the tiny night's warehouse, dbt runs stg_vaccination__doi_tuong and its `_versions` model again:
kept rows are served as they are (so a night normalises only new versions), rows of another code version or
missing rows are recomputed, and a night that read the source in full rebuilds them. Every rebuilt staging table
equals the night's own.
"""

import json
import os
import shutil
import subprocess

import duckdb
import pytest

from assets.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR

MODELS = ["stg_vaccination__doi_tuong_versions", "stg_vaccination__doi_tuong"]
VERSIONS = "staging.stg_vaccination__doi_tuong_versions"
STAGING = "staging.stg_vaccination__doi_tuong"


def _run_dbt(warehouse, target, as_of):
    command = [
        DBT_EXECUTABLE, "run", "--select", *MODELS, "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target),
        "--vars", json.dumps({"as_of": as_of.isoformat(), "warehouse": str(warehouse)}), "--quiet",
    ]  # fmt: skip
    done = subprocess.run(command, env=dict(os.environ), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:]


def _fingerprint(con, table):
    return con.execute(
        f"select count(*), md5(string_agg(cast(t as varchar), chr(10) order by cast(t as varchar))) from {table} t"
    ).fetchone()


@pytest.fixture
def warehouse(tiny_night, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(tiny_night, copy)
    return copy


def test_kept_versions_served_stale_replaced(warehouse, tmp_path):
    from tests.support import AS_OF

    with duckdb.connect(str(warehouse)) as con:
        original = _fingerprint(con, STAGING)
        versions = con.execute(f"select count(*), count(distinct _hash), count(distinct _norm_version) from {VERSIONS}")
        kept, hashes, code_versions = versions.fetchone()
        assert kept == hashes >= original[0] > 0 and code_versions == 1
        # tonight is an incremental night: the source was not read in full
        con.execute("update meta.extractions set mode = 'incremental' where source = 'vaccination'")
        # a kept row is served as it is: tonight does not normalise it again
        con.execute(f"update {VERSIONS} set name_norm = 'kept'")
    _run_dbt(warehouse, tmp_path / "t1", AS_OF)
    with duckdb.connect(str(warehouse)) as con:
        served = con.execute(f"select count(*), count(*) filter (where name_norm = 'kept') from {STAGING}")
        assert served.fetchone() == (original[0], original[0])
        # rows of another code version are never served, and are replaced; missing versions are added
        con.execute(f"update {VERSIONS} set _norm_version = 'older code'")
    _run_dbt(warehouse, tmp_path / "t2", AS_OF)
    with duckdb.connect(str(warehouse)) as con:
        assert _fingerprint(con, STAGING) == original
        assert con.execute(f"select count(*) from {VERSIONS} where _norm_version = 'older code'").fetchone() == (0,)
        assert con.execute(f"select count(*) from {VERSIONS}").fetchone() == (original[0],)
        # half the versions missing (a killed night, a new night's rows): only those are normalised
        con.execute(f"update {VERSIONS} set name_norm = 'kept' where source_record_id like '%1'")
        con.execute(f"delete from {VERSIONS} where source_record_id like '%2'")
    _run_dbt(warehouse, tmp_path / "t3", AS_OF)
    with duckdb.connect(str(warehouse)) as con:
        counts = con.execute(
            f"select count(*) filter (where name_norm = 'kept'), count(*) filter (where source_record_id like '%1'),"
            f" count(*) from {STAGING}"
        ).fetchone()
        assert counts[0] == counts[1] > 0 and counts[2] == original[0]
        # a night that read the source in full (first night, --full-refresh) rebuilds every kept version
        con.execute("update meta.extractions set mode = 'full' where source = 'vaccination'")
    _run_dbt(warehouse, tmp_path / "t4", AS_OF)
    with duckdb.connect(str(warehouse)) as con:
        assert _fingerprint(con, STAGING) == original
        assert con.execute(f"select count(*) from {VERSIONS} where name_norm = 'kept'").fetchone() == (0,)
