"""Resources of the code location: the night, the warehouse, the sources — all from environment variables."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import PrivateAttr

from expectations.contracts import CATALOGUE

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TIMEZONE = "Asia/Ho_Chi_Minh"

# SOURCES.md: one SQLAlchemy URL per source, one environment variable each, with the embedded defaults.
SOURCE_URL_VARIABLES: dict[str, tuple[str, str]] = {
    spec.name: (spec.url_variable, spec.default_url) for spec in CATALOGUE.values()
}
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


def source_url(source: str) -> str:
    """The SQLAlchemy URL of a source, from its environment variable or the embedded default."""
    variable, default = SOURCE_URL_VARIABLES[source]
    return os.environ.get(variable) or default


def today_in_vietnam() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def parse_as_of(value: str | None, name: str = "DOISOAT_AS_OF") -> dt.date:
    """The night to reconcile: `YYYY-MM-DD`, or today in Asia/Ho_Chi_Minh when empty."""
    if not value:
        return today_in_vietnam()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value}: not a date (YYYY-MM-DD)") from None


class NightResource(dg.ConfigurableResource):
    """The night being reconciled (`DOISOAT_AS_OF`); the schedule sets it per run."""

    as_of: str = ""

    def date(self) -> dt.date:
        return parse_as_of(self.as_of or os.environ.get("DOISOAT_AS_OF"))


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
