"""The simulated province: five source databases per SOURCES.md, with planted defects and a ground truth;
`advance` moves them on one night at a time."""

from .core import build, simulate
from .nights import advance

__all__ = ["advance", "build", "simulate"]
