"""Shared fixtures: the tiny scenario is simulated once per session, and its night is run once."""

from pathlib import Path

import pytest

from tests.support import run_night_on, simulate_into


@pytest.fixture(scope="session")
def tiny_sources(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny")
    simulate_into(directory, "tiny")
    return directory


@pytest.fixture(scope="session")
def tiny_night(tiny_sources, tmp_path_factory) -> Path:
    """The warehouse after the nightly job ran on the tiny scenario."""
    work = tmp_path_factory.mktemp("tiny_night")
    warehouse = work / "warehouse.duckdb"
    assert run_night_on(tiny_sources, warehouse, work / "dagster_home"), "the tiny night failed"
    return warehouse
