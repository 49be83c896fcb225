"""Resources of the code location: the warehouse and the sources, from environment variables.

The night is not a resource: it is the run's partition key (`assets/partitions.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from expectations.contracts import CATALOGUE

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# SOURCES.md: one SQLAlchemy URL per source, one environment variable each, with the embedded defaults.
SOURCE_URL_VARIABLES: dict[str, tuple[str, str]] = {
    spec.name: (spec.url_variable, spec.default_url) for spec in CATALOGUE.values()
}
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


def table_exists(con, schema: str, table: str) -> bool:
    """Whether the warehouse connection `con` has the table (or view) `schema.table`."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def source_url(source: str) -> str:
    """The SQLAlchemy URL of a source, from its environment variable or the embedded default."""
    variable, default = SOURCE_URL_VARIABLES[source]
    return os.environ.get(variable) or default


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (`DOISOAT_WAREHOUSE`).

    In a run it also holds the night: the warehouse's lock for the run's whole lifetime (the nightly job runs
    in process, so this resource is set up once before the first step and torn down after the last), and the
    night's row of `meta.night_status` (see `assets/night.py`).
    """

    path: str = ""
    _guard: object = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from assets.night import NightGuard

        self._guard = NightGuard.start(self.resolved_path(), context)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._guard is not None:
            self._guard.finish(context.instance)
            self._guard = None

    def resolved_path(self) -> Path:
        path = Path(self.path or os.environ.get("DOISOAT_WAREHOUSE") or DEFAULT_WAREHOUSE)
        return path if path.is_absolute() else Path.cwd() / path

    def connect(self):
        """Open a read-write DuckDB connection (callers close it: one writer at a time)."""
        import duckdb

        path = self.resolved_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(path))


class SourcesResource(dg.ConfigurableResource):
    """The five source systems' SQLAlchemy URLs; empty means the environment variable or its default."""

    population: str = ""
    vaccination: str = ""
    social: str = ""
    civil: str = ""
    children: str = ""

    def url(self, source: str) -> str:
        return getattr(self, source) or source_url(source)
