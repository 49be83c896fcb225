"""Numbers as readers expect them: vi-VN `1.234,5` and en `1,234.5`."""

from __future__ import annotations

import math


def _swap(text: str) -> str:
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value: object, lang: str) -> str:
    """An integer with thousands separators (`1.234` vi, `1,234` en); `–` when missing."""
    if is_missing(value):
        return "–"
    text = f"{int(value):,}"
    return _swap(text) if lang == "vi" else text


def fmt_dec(value: object, lang: str, decimals: int = 2) -> str:
    """A decimal rounded to `decimals` places (`74,92` vi, `74.92` en); `–` when missing."""
    if is_missing(value):
        return "–"
    text = f"{float(value):,.{decimals}f}"
    return _swap(text) if lang == "vi" else text


def fmt_rate(value: object, lang: str) -> str:
    """A percentage rounded to 2 decimals, `74,92%` (vi) / `74.92%` (en)."""
    return "–" if is_missing(value) else fmt_dec(value, lang, 2) + "%"


def fmt_delta(value: object, lang: str) -> str:
    """A change in percentage points with its sign (`+1,25` / `−0,50`)."""
    if is_missing(value):
        return "–"
    shown = round(float(value), 2)  # a change that rounds to zero reads ±0,00, not −0,00
    sign = "+" if shown > 0 else ("−" if shown < 0 else "±")
    return sign + fmt_dec(abs(shown), lang, 2)


def parse_number(text: str, lang: str) -> float:
    """The inverse of the formatters (for tests): `1.234,56%` (vi) → 1234.56."""
    cleaned = text.strip().rstrip("%").replace("\u2212", "-")
    if lang == "vi":
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    return float(cleaned)
