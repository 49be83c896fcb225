"""Fixtures of the CLI tests: the hand-made scratch warehouse (fast), copied per test."""

import shutil

import pytest

from tests.report.scratch_warehouse import AS_OF, build_scratch_warehouse


@pytest.fixture(scope="session")
def scratch_source(tmp_path_factory):
    return build_scratch_warehouse(tmp_path_factory.mktemp("cli_scratch") / "warehouse.duckdb")


@pytest.fixture
def scratch(scratch_source, tmp_path, monkeypatch):
    """(a copy of the scratch warehouse, its night) with DOISOAT_WAREHOUSE pointing at it."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scratch_source, warehouse)
    monkeypatch.setenv("DOISOAT_WAREHOUSE", str(warehouse))
    return warehouse, AS_OF
