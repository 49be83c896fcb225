"""Small vectorised helpers: dates as day numbers, exact ages, random picks, ID renderings."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

EPOCH = dt.date(1970, 1, 1)


def day(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split day numbers into year, month, day arrays."""
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype("int64") + 1970
    m = d.astype("datetime64[M]").astype("int64") % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype("int64") + 1
    return y, m, dd


def from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Day numbers from year, month, day arrays (day clipped to the month's length)."""
    y = np.asarray(y, dtype="int64")
    m = np.asarray(m, dtype="int64")
    first = (y - 1970) * 12 + (m - 1)
    start = first.astype("datetime64[M]").astype("datetime64[D]").astype("int64")
    nxt = (first + 1).astype("datetime64[M]").astype("datetime64[D]").astype("int64")
    return start + np.minimum(np.asarray(d, dtype="int64"), nxt - start) - 1


def add_years(days: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Same month and day, `years` later (29 Feb -> 28 Feb)."""
    y, m, d = ymd(days)
    return from_ymd(y + years, m, d)


def age_at(birth_days: np.ndarray, as_of: dt.date) -> np.ndarray:
    """Exact age in whole years at as_of (a child born exactly 16 years before is 16)."""
    y, m, d = ymd(birth_days)
    before = (as_of.month < m) | ((as_of.month == m) & (as_of.day < d))
    return as_of.year - y - before.astype("int64")


def iso(days: np.ndarray) -> np.ndarray:
    """yyyy-mm-dd strings."""
    return np.datetime_as_string(np.asarray(days, dtype="int64").astype("datetime64[D]"), unit="D")


def dmy(days: np.ndarray) -> pd.Series:
    """dd/mm/yyyy strings."""
    s = pd.Series(iso(days))
    return s.str[8:10] + "/" + s.str[5:7] + "/" + s.str[0:4]


def ts_text(seconds: np.ndarray) -> np.ndarray:
    """yyyy-mm-dd HH:MM:SS strings from seconds since the epoch."""
    t = np.datetime_as_string(np.asarray(seconds, dtype="int64").astype("datetime64[s]"), unit="s")
    return np.char.replace(t.astype(str), "T", " ")


def pick(rng: np.random.Generator, mask: np.ndarray, rate: float, minimum: int = 2) -> np.ndarray:
    """Exactly round(rate * eligible) eligible positions (at least `minimum` when rate > 0), as a bool mask."""
    mask = np.asarray(mask, dtype=bool)
    idx = np.flatnonzero(mask)
    out = np.zeros(mask.shape[0], dtype=bool)
    if rate <= 0 or idx.size == 0:
        return out
    k = int(round(rate * idx.size))
    k = min(idx.size, max(k, minimum))
    out[rng.choice(idx, size=k, replace=False)] = True
    return out


def weighted(rng: np.random.Generator, items: list[tuple[str, float]], n: int) -> np.ndarray:
    """n indices into items drawn with the items' weights."""
    w = np.array([x[1] for x in items], dtype=float)
    return rng.choice(len(items), size=n, p=w / w.sum())


def digits(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """n zero-padded random k-digit strings."""
    v = rng.integers(0, 10**k, size=n, dtype="int64")
    return pd.Series(v).astype(str).str.zfill(k).to_numpy()


def id_with_spaces(ids: pd.Series) -> pd.Series:
    """024 195 012 345."""
    return ids.str[0:3] + " " + ids.str[3:6] + " " + ids.str[6:9] + " " + ids.str[9:12]


def id_with_dots(ids: pd.Series) -> pd.Series:
    """024.195.012.345."""
    return ids.str[0:3] + "." + ids.str[3:6] + "." + ids.str[6:9] + "." + ids.str[9:12]


def isin(values, test) -> np.ndarray:
    """Hash-based membership test (numpy's isin sorts object arrays, which is slow)."""
    v = np.asarray(values)
    t = np.asarray(test)
    if v.dtype.kind in "iub" and t.dtype.kind in "iub":
        return np.isin(v, t)
    return pd.Series(v, dtype=object).isin(t.astype(object).tolist()).to_numpy()


def in_set(values, test: set) -> np.ndarray:
    """Membership of each value in a Python set, without converting the (possibly large) set."""
    v = np.asarray(values, dtype=object)
    return np.fromiter((x in test for x in v), dtype=bool, count=v.shape[0])
