"""Fixtures of the report tests: a hand-made scratch warehouse (fast, always available)."""

import pytest

from tests.report.scratch_warehouse import AS_OF, build_scratch_warehouse


@pytest.fixture(scope="session")
def scratch_warehouse(tmp_path_factory):
    """(warehouse path, as_of) of the scratch warehouse."""
    return build_scratch_warehouse(tmp_path_factory.mktemp("scratch") / "warehouse.duckdb"), AS_OF
