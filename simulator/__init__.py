"""The simulated province: five source databases per SOURCES.md, with planted defects and a ground truth."""

from .core import build, simulate

__all__ = ["build", "simulate"]
