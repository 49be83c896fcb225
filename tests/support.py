"""Helpers shared by the tests: simulate a scenario into a folder, run a night on it."""

import datetime as dt
import os
from pathlib import Path

AS_OF = dt.date(2026, 11, 25)
SOURCES = ("population", "vaccination", "social", "civil", "children")
URL_VARIABLES = {s: f"DOISOAT_{s.upper()}_URL" for s in SOURCES}


def sqlite_urls(directory: Path) -> dict[str, str]:
    return {source: f"sqlite:///{directory / f'{source}.sqlite'}" for source in SOURCES}


def simulate_into(directory: Path, scenario: str, seed: int = 7) -> dict:
    from simulator import simulate

    directory.mkdir(parents=True, exist_ok=True)
    return simulate(
        scenario, seed=seed, as_of=AS_OF, urls=sqlite_urls(directory), truth_path=directory / "ground_truth.parquet"
    )


def run_night_on(directory: Path, warehouse: Path, dagster_home: Path, selection=None) -> bool:
    """Run the nightly Dagster job on the sources in `directory` into `warehouse` (environment restored after)."""
    from orchestration.cli import run_night

    dagster_home.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    try:
        os.environ.update({URL_VARIABLES[s]: url for s, url in sqlite_urls(directory).items()})
        os.environ["DOISOAT_WAREHOUSE"] = str(warehouse)
        os.environ["DAGSTER_HOME"] = str(dagster_home)
        return run_night(AS_OF.isoformat(), selection)
    finally:
        os.environ.clear()
        os.environ.update(saved)
