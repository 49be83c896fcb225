"""Text that is not valid UTF-8: the decoding policy of ingestion, and the legacy Vietnamese encodings.

Policy (docs/internal-contracts.md, "Text encodings"): a text value is taken as UTF-8 when it is valid UTF-8.
Otherwise each legacy encoding the source declares (`DOISOAT_<SOURCE>_LEGACY_ENCODINGS`, e.g. `tcvn3,vni`;
default: none) is tried in the declared order, and the first that decodes the whole value into Vietnamese text
(letters of the Vietnamese alphabet, ASCII, white space) wins. Otherwise the invalid bytes are replaced by
U+FFFD and the row is quarantined with its reason. Invalid bytes never reach DuckDB.

Python has no TCVN3 or VNI codec and PyPI has no well-kept one, so the two tables are below. Both follow the
tables of xvnkb by Dao Hai Lam (https://github.com/lamdao/xvnkb, files `tcvn.h` and `vni.h`, 2002), which list
each encoding's bytes for the 12 vowels (a â ă e ê o ô ơ u ư i y) × 6 tones (none, sắc, huyền, hỏi, ngã, nặng)
and đ. TCVN3 (TCVN 5712:1993 "ABC") is single-byte; only its lower-case letters and the upper-case Ă Â Ê Ô Ơ Ư
Đ are standard (upper-case toned letters were drawn by separate upper-case fonts on the lower-case codes), so
upper-case toned TCVN3 text decodes to lower case — which every comparison case-folds anyway. VNI Windows is
a base letter followed by one mark byte (Windows-1252 positions). Windows-1258 is Python's `cp1258` codec.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

REPLACEMENT = "\ufffd"

# The 12 vowels in the tables' order, and the tones in the tables' order (none, sắc, huyền, hỏi, ngã, nặng).
_VOWELS = ("a", "â", "ă", "e", "ê", "o", "ô", "ơ", "u", "ư", "i", "y")
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")


def _letter(vowel: str, tone: int, upper: bool = False) -> str:
    """The precomposed Vietnamese letter for a vowel and a tone index."""
    text = unicodedata.normalize("NFC", vowel + _TONES[tone])
    return text.upper() if upper else text


# TCVN3, lower case: for each vowel the bytes of (none, sắc, huyền, hỏi, ngã, nặng); 0 = the ASCII letter.
_TCVN3_LOWER = {
    "a": (0, 0xB8, 0xB5, 0xB6, 0xB7, 0xB9),
    "â": (0xA9, 0xCA, 0xC7, 0xC8, 0xC9, 0xCB),
    "ă": (0xA8, 0xBE, 0xBB, 0xBC, 0xBD, 0xC6),
    "e": (0, 0xD0, 0xCC, 0xCE, 0xCF, 0xD1),
    "ê": (0xAA, 0xD5, 0xD2, 0xD3, 0xD4, 0xD6),
    "o": (0, 0xE3, 0xDF, 0xE1, 0xE2, 0xE4),
    "ô": (0xAB, 0xE8, 0xE5, 0xE6, 0xE7, 0xE9),
    "ơ": (0xAC, 0xED, 0xEA, 0xEB, 0xEC, 0xEE),
    "u": (0, 0xF3, 0xEF, 0xF1, 0xF2, 0xF4),
    "ư": (0xAD, 0xF8, 0xF5, 0xF6, 0xF7, 0xF9),
    "i": (0, 0xDD, 0xD7, 0xD8, 0xDC, 0xDE),
    "y": (0, 0xFD, 0xFA, 0xFB, 0xFC, 0xFE),
}
_TCVN3_OTHER = {0xAE: "đ", 0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ"}

# VNI Windows: (base letter, mark bytes for none / sắc / huyền / hỏi / ngã / nặng) per vowel, lower and upper
# case. A mark of None means the letter is the base byte alone; single-byte letters are in _VNI_SINGLE.
_VNI_MARKS_LOWER = (None, 0xF9, 0xF8, 0xFB, 0xF5, 0xEF)
_VNI_MARKS_UPPER = (None, 0xD9, 0xD8, 0xDB, 0xD5, 0xCF)
_VNI_CIRCUMFLEX_LOWER = (0xE2, 0xE1, 0xE0, 0xE5, 0xE3, 0xE4)  # â ấ ầ ẩ ẫ ậ after a / e / o
_VNI_CIRCUMFLEX_UPPER = (0xC2, 0xC1, 0xC0, 0xC5, 0xC3, 0xC4)
_VNI_BREVE_LOWER = (0xEA, 0xE9, 0xE8, 0xFA, 0xFC, 0xEB)  # ă ắ ằ ẳ ẵ ặ after a
_VNI_BREVE_UPPER = (0xCA, 0xC9, 0xC8, 0xDA, 0xDC, 0xCB)
# i and ỵ are single bytes with a tone; ơ, ư and đ single bytes that take the usual marks.
_VNI_I_LOWER = (ord("i"), 0xED, 0xEC, 0xE6, 0xF3, 0xF2)
_VNI_I_UPPER = (ord("I"), 0xCD, 0xCC, 0xC6, 0xD3, 0xD2)


def _tcvn3_table() -> dict[int, str]:
    table: dict[int, str] = dict(_TCVN3_OTHER)
    for vowel, codes in _TCVN3_LOWER.items():
        for tone, code in enumerate(codes):
            if code:
                table[code] = _letter(vowel, tone)
    return table


def _vni_table() -> dict[bytes, str]:
    table: dict[bytes, str] = {b"\xf1": "đ", b"\xd1": "Đ", b"\xee": "ỵ", b"\xce": "Ỵ"}
    for upper, marks, circ, breve, i_codes in (
        (False, _VNI_MARKS_LOWER, _VNI_CIRCUMFLEX_LOWER, _VNI_BREVE_LOWER, _VNI_I_LOWER),
        (True, _VNI_MARKS_UPPER, _VNI_CIRCUMFLEX_UPPER, _VNI_BREVE_UPPER, _VNI_I_UPPER),
    ):
        case = str.upper if upper else str.lower
        for tone in range(6):
            for base in "aeouy":
                if tone and not (base == "y" and tone == 5):  # ỵ is one byte
                    table[case(base).encode() + bytes([marks[tone]])] = _letter(base, tone, upper)
            for base, hat in (("a", "â"), ("e", "ê"), ("o", "ô")):
                table[case(base).encode() + bytes([circ[tone]])] = _letter(hat, tone, upper)
            table[case("a").encode() + bytes([breve[tone]])] = _letter("ă", tone, upper)
            horn_o, horn_u = (0xD4, 0xD6) if upper else (0xF4, 0xF6)
            suffix = bytes([marks[tone]]) if tone else b""
            table[bytes([horn_o]) + suffix] = _letter("ơ", tone, upper)
            table[bytes([horn_u]) + suffix] = _letter("ư", tone, upper)
            if tone:
                table[bytes([i_codes[tone]])] = _letter("i", tone, upper)
    return table


TCVN3_TABLE: dict[int, str] = _tcvn3_table()
VNI_TABLE: dict[bytes, str] = _vni_table()
_VNI_PAIRS = {k: v for k, v in VNI_TABLE.items() if len(k) == 2}
_VNI_SINGLES = {k[0]: v for k, v in VNI_TABLE.items() if len(k) == 1}


def decode_tcvn3(raw: bytes) -> str | None:
    """TCVN3 (ABC) bytes as text; None when a byte is not a TCVN3 letter."""
    out = []
    for b in raw:
        if b < 0x80:
            out.append(chr(b))
        elif b in TCVN3_TABLE:
            out.append(TCVN3_TABLE[b])
        else:
            return None
    return "".join(out)


def decode_vni(raw: bytes) -> str | None:
    """VNI Windows bytes as text (a base letter and its mark byte → one letter); None when not VNI."""
    out, i, n = [], 0, len(raw)
    while i < n:
        pair = raw[i : i + 2]
        if len(pair) == 2 and pair in _VNI_PAIRS:
            out.append(_VNI_PAIRS[pair])
            i += 2
        elif raw[i] in _VNI_SINGLES:
            out.append(_VNI_SINGLES[raw[i]])
            i += 1
        elif raw[i] < 0x80:
            out.append(chr(raw[i]))
            i += 1
        else:
            return None
    return "".join(out)


def decode_cp1258(raw: bytes) -> str | None:
    """Windows-1258 bytes as NFC text; None when a byte is undefined there."""
    try:
        return unicodedata.normalize("NFC", raw.decode("cp1258"))
    except UnicodeDecodeError:
        return None


def encode_tcvn3(text: str) -> bytes:
    """The inverse of decode_tcvn3 (tests write legacy bytes with it); lower-case letters only for toned ones."""
    inverse = {v: k for k, v in TCVN3_TABLE.items()}
    return bytes(inverse[c] if c in inverse else ord(c) for c in unicodedata.normalize("NFC", text))


def encode_vni(text: str) -> bytes:
    """The inverse of decode_vni (tests write legacy bytes with it)."""
    inverse = {v: k for k, v in VNI_TABLE.items()}
    return b"".join(inverse[c] if c in inverse else c.encode("ascii") for c in unicodedata.normalize("NFC", text))


DECODERS: dict[str, Callable[[bytes], str | None]] = {
    "tcvn3": decode_tcvn3,
    "vni": decode_vni,
    "cp1258": decode_cp1258,
}
ALIASES = {"abc": "tcvn3", "tcvn": "tcvn3", "windows-1258": "cp1258", "windows1258": "cp1258", "vni-windows": "vni"}

_VIETNAMESE_LETTERS = frozenset(
    _letter(v, t, up) for v in _VOWELS for t in range(6) for up in (False, True)
) | frozenset("đĐ")


def is_vietnamese_text(text: str) -> bool:
    """Only ASCII printable characters, white space and letters of the Vietnamese alphabet."""
    return all((" " <= c <= "~") or c.isspace() or c in _VIETNAMESE_LETTERS for c in text)


def legacy_encodings(source: str, environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The legacy encodings a source declares (`DOISOAT_<SOURCE>_LEGACY_ENCODINGS`, comma-separated; default none)."""
    env = os.environ if environ is None else environ
    value = env.get(f"DOISOAT_{source.upper()}_LEGACY_ENCODINGS", "")
    names = []
    for part in value.split(","):
        name = part.strip().lower()
        if not name:
            continue
        name = ALIASES.get(name, name)
        if name not in DECODERS:
            raise ValueError(
                f"DOISOAT_{source.upper()}_LEGACY_ENCODINGS: unknown encoding {part.strip()!r} "
                f"(known: {', '.join(sorted(DECODERS))})"
            )
        names.append(name)
    return tuple(names)


def decode_value(raw: bytes, encodings: tuple[str, ...]) -> tuple[str, str | None]:
    """A value that is not UTF-8: (text, encoding used), or (text with U+FFFD replacements, None)."""
    for name in encodings:
        text = DECODERS[name](raw)
        if text is not None and is_vietnamese_text(text):
            return unicodedata.normalize("NFC", text), name
    return raw.decode("utf-8", errors="replace"), None


def invalid_utf8_rows(column: pa.Array) -> list[int]:
    """Positions of the values of a string column that are not valid UTF-8 (the column is known to hold some)."""
    import duckdb

    table = pa.table({"i": pa.array(range(len(column)), pa.int64()), "b": column.cast(pa.binary())})
    with duckdb.connect() as con:
        con.register("t", table)
        rows = con.execute("select i from t where b is not null and try(decode(b)) is null order by i").fetchall()
    return [r[0] for r in rows]


def repair_batch(
    batch: pa.RecordBatch, encodings: tuple[str, ...]
) -> tuple[pa.RecordBatch, list[tuple[int, str, str, str]], dict[str, int]]:
    """The batch with every string value valid UTF-8, the rows whose bytes had to be replaced, and counts.

    Returns (batch, issues, counts): issues are (row, column, reason, value with the bad bytes escaped) for the
    values neither UTF-8 nor a declared encoding; counts are values decoded per legacy encoding. The normal
    path is one UTF-8 validation per column in Arrow's C++; only a column that fails it is looked at per value.
    """
    issues: list[tuple[int, str, str, str]] = []
    counts: dict[str, int] = {}
    columns = list(batch.columns)
    for position, (name, column) in enumerate(zip(batch.schema.names, columns, strict=True)):
        if not pa.types.is_string(column.type):
            continue
        try:
            column.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        rows = invalid_utf8_rows(column)
        raw_values = column.cast(pa.binary()).take(pa.array(rows, pa.int64())).to_pylist()
        fixed = []
        for row, raw in zip(rows, raw_values, strict=True):
            text, used = decode_value(raw, encodings)
            if used is None:
                reason = "not valid UTF-8" + (
                    f" nor {' / '.join(encodings)}" if encodings else " (no legacy encoding declared)"
                )
                issues.append((row, name, f"{reason}; invalid bytes replaced", raw.decode("utf-8", "backslashreplace")))
            else:
                counts[used] = counts.get(used, 0) + 1
            fixed.append(text.encode("utf-8"))
        mask = pc.is_in(pa.array(range(len(column)), pa.int64()), value_set=pa.array(rows, pa.int64()))
        repaired = pc.replace_with_mask(column.cast(pa.binary()), mask, pa.array(fixed, pa.binary()))
        columns[position] = repaired.cast(pa.string())
    if issues or counts:
        batch = pa.RecordBatch.from_arrays(columns, schema=batch.schema)
    return batch, issues, counts
