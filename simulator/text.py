"""Text renderings of Vietnamese names: harmless quirks (NFD, tone placement, case, spaces) and accent stripping."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

# Old-style tone placement (on the first vowel of oa/oe/uy at the end of a syllable) -> new style.
_TONES_OA = {"ò": "oà", "ó": "oá", "ỏ": "oả", "õ": "oã", "ọ": "oạ"}
_PAIRS: dict[str, str] = {}
for _o, _new in _TONES_OA.items():
    _PAIRS[_o + "a"] = _new
    _PAIRS[_o + "e"] = "o" + {"à": "è", "á": "é", "ả": "ẻ", "ã": "ẽ", "ạ": "ẹ"}[_new[1]]
for _u, _y in {"ù": "ỳ", "ú": "ý", "ủ": "ỷ", "ũ": "ỹ", "ụ": "ỵ"}.items():
    _PAIRS[_u + "y"] = "u" + _y
_PAIRS.update({k.upper(): v.upper() for k, v in list(_PAIRS.items())})
_TONE_RE = re.compile("(" + "|".join(sorted(_PAIRS, key=len, reverse=True)) + r")(?=\s|$)")


def new_tone_style(s: str) -> str:
    """Move the tone mark of a word-final oa/oe/uy to the second vowel (Hòa -> Hoà, Thủy -> Thuỷ)."""
    return _TONE_RE.sub(lambda m: _PAIRS[m.group(1)], s)


def strip_accents(s: str) -> str:
    """Remove every diacritic, đ included (Nguyễn Thị Đào -> Nguyen Thi Dao)."""
    d = unicodedata.normalize("NFD", s).replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", "".join(c for c in d if not unicodedata.combining(c)))


def has_diacritics(s: str) -> bool:
    """True when the name carries any Vietnamese diacritic (đ counts)."""
    return strip_accents(s) != s


def map_unique(values: pd.Series, fn) -> pd.Series:
    """Apply a str -> str function once per distinct value (NULL stays NULL)."""
    uniq = pd.unique(values.dropna())
    table = {u: fn(u) for u in uniq}
    return values.map(table)


def apply_quirks(
    names: pd.Series, rng: np.random.Generator, *, p_upper: float, p_nfd: float, p_tone: float, p_space: float
) -> pd.Series:
    """Render names with the harmless quirks of SOURCES.md at the given rates (vectorised per distinct value)."""
    out = names.copy()
    n = len(out)
    if n == 0:
        return out
    tone = rng.random(n) < p_tone
    upper = rng.random(n) < p_upper
    space = rng.random(n)
    nfd = rng.random(n) < p_nfd
    notna = out.notna().to_numpy()
    m = tone & notna
    if m.any():
        out[m] = map_unique(out[m], new_tone_style)
    m = upper & notna
    if m.any():
        out[m] = out[m].str.upper()
    m = (space < p_space / 2) & notna
    if m.any():
        out[m] = out[m].str.replace(" ", "  ", n=1, regex=False)
    m = (space >= p_space / 2) & (space < p_space) & notna
    if m.any():
        out[m] = out[m] + " "
    m = nfd & notna
    if m.any():
        out[m] = map_unique(out[m], lambda s: unicodedata.normalize("NFD", s))
    return out
