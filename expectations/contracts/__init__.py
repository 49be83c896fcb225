"""Ingestion contracts: one per source system, the SOURCES.md shape of each of its tables."""

from expectations.contracts.base import TableContract
from expectations.contracts.children import CONTRACTS as _CHILDREN
from expectations.contracts.civil import CONTRACTS as _CIVIL
from expectations.contracts.population import CONTRACTS as _POPULATION
from expectations.contracts.social import CONTRACTS as _SOCIAL
from expectations.contracts.vaccination import CONTRACTS as _VACCINATION

SOURCES: tuple[str, ...] = ("population", "vaccination", "social", "civil", "children")

CONTRACTS: tuple[TableContract, ...] = (*_POPULATION, *_VACCINATION, *_SOCIAL, *_CIVIL, *_CHILDREN)

__all__ = ["CONTRACTS", "SOURCES", "TableContract"]
