"""The catalogue of sources: one module per source system, each with its SOURCES.md tables as `SOURCE`.

Ingestion, linkage, gates, report and CLI all read `CATALOGUE`; adding a sixth source is one more module here
(and its staging models in dbt). Sources are listed in the order of SOURCES.md: the master first.
"""

import importlib
import pkgutil

from expectations.contracts.base import SourceSpec, TableContract

_ORDER = ("population", "vaccination", "social", "civil", "children")


def _discover() -> tuple[SourceSpec, ...]:
    found = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name == "base":
            continue
        spec = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SOURCE", None)
        if isinstance(spec, SourceSpec):
            found[spec.name] = spec
    ordered = [found.pop(name) for name in _ORDER if name in found]
    return (*ordered, *(found[name] for name in sorted(found)))


CATALOGUE: dict[str, SourceSpec] = {spec.name: spec for spec in _discover()}
SOURCES: tuple[str, ...] = tuple(CATALOGUE)
MASTER: str = next(spec.name for spec in CATALOGUE.values() if spec.master)
CONTRACTS: tuple[TableContract, ...] = tuple(table for spec in CATALOGUE.values() for table in spec.tables)

__all__ = ["CATALOGUE", "CONTRACTS", "MASTER", "SOURCES", "SourceSpec", "TableContract"]
