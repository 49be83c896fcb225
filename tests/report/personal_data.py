"""Helpers of the masking tests: every personal ID and full name of the sources, and a scan of report files.

Nothing here prints a value: results are counts and file names.
"""

import re
import unicodedata
import zipfile
from pathlib import Path

import duckdb

# raw tables (the sources as ingested): the columns holding a personal ID or number, and those holding a name
RAW_IDS = {
    "population__citizen": ["personal_id", "legacy_id9", "father_id", "mother_id"],
    "vaccination__doi_tuong": ["so_giay_to", "dien_thoai"],
    "social__beneficiary": ["id_number", "bank_account"],
    "civil__ho_tich": ["so_dinh_danh", "so_dinh_danh_2"],
    "children__tre_em": ["ma_dinh_danh", "cccd_me"],
}
RAW_NAMES = {
    "population__citizen": ["full_name"],
    "vaccination__doi_tuong": ["ho_ten"],
    "social__beneficiary": ["full_name"],
    "civil__ho_tich": ["ho_ten", "ho_ten_cha", "ho_ten_me", "ho_ten_2"],
    "children__tre_em": ["ho_va_ten", "ho_ten_me"],
}
STAGING = [
    "stg_population__citizen",
    "stg_vaccination__doi_tuong",
    "stg_social__beneficiary",
    "stg_civil__ho_tich",
    "stg_children__tre_em",
]


WORD = re.compile(r"\w+")


def _fold(text: str) -> str:
    """NFC, case-folded, words only (so that markup or doubled spaces between the words change nothing)."""
    return " ".join(WORD.findall(unicodedata.normalize("NFC", text).casefold()))


def _name_hits(text: str, names: set[str], first_words: set[str], lengths: set[int]) -> int:
    """How many of `names` (folded) occur in `text` as consecutive words (checked where a name can start)."""
    words = WORD.findall(unicodedata.normalize("NFC", text).casefold())
    found = set()
    for i, word in enumerate(words):
        if word in first_words:
            for n in lengths:
                candidate = " ".join(words[i : i + n])
                if candidate in names:
                    found.add(candidate)
    return len(found)


def personal_values(warehouse: Path) -> tuple[set[str], set[str]]:
    """(IDs as digit strings of 9+ digits, full names of 2+ words folded) found in the warehouse's sources."""
    con = duckdb.connect(str(warehouse), read_only=True)
    ids, names = set(), set()
    try:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        columns = {
            (r[0], r[1])
            for r in con.execute(
                "select table_name, column_name from information_schema.columns"
                " where table_schema in ('raw', 'staging')"
            ).fetchall()
        }
        id_sources = [(f"raw.{t}", c) for t, cs in RAW_IDS.items() if t in tables for c in cs if (t, c) in columns]
        name_sources = [(f"raw.{t}", c) for t, cs in RAW_NAMES.items() if t in tables for c in cs if (t, c) in columns]
        for view in STAGING:  # the scratch warehouse has staging only; the real one has both
            for column in ("personal_id", "id_clean", "id12", "id9"):
                if (view, column) in columns:
                    id_sources.append((f"staging.{view}", column))
            if (view, "full_name") in columns:
                name_sources.append((f"staging.{view}", "full_name"))
        id_sources.append(("marts.fct_reconciliation", "personal_id"))
        for table, column in id_sources:
            for (value,) in con.execute(
                f"select distinct cast({column} as varchar) from {table} where {column} is not null"
            ).fetchall():
                digits = re.sub(r"[ .]", "", value)
                if digits.isdigit() and len(digits) >= 9:
                    ids.add(digits)
        for table, column in name_sources:
            for (value,) in con.execute(f"select distinct {column} from {table} where {column} is not null").fetchall():
                folded = _fold(value)
                if len(folded.split()) >= 2:
                    names.add(folded)
    finally:
        con.close()
    return ids, names


def report_texts(directory: Path):
    """(relative path, text) of every file of a report; XLSX as the text of their XML parts, a commune's
    rows script as its decoded JSON."""
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = str(path.relative_to(directory))
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                text = " ".join(
                    archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if n.endswith(".xml")
                )
        elif path.name.endswith(".rows.js"):  # a commune page's rows: base64 of gzip JSON
            import base64
            import gzip

            payload = path.read_text(encoding="ascii").split('"')[1]
            text = gzip.decompress(base64.b64decode(payload)).decode("utf-8")
        elif path.suffix in {".png", ".gif", ".ico", ".otf", ".ttf", ".woff", ".woff2", ".jpg"}:
            continue
        else:
            text = path.read_bytes().decode("utf-8", "replace")
        yield relative, text


def leaks(directory: Path, ids: set[str], names: set[str], skip: set[str] = frozenset()) -> dict[str, int]:
    """For each report file: how many of the personal values appear in it (files with none are left out)."""
    found = {}
    first_words = {name.split()[0] for name in names}
    lengths = {len(name.split()) for name in names}
    for relative, text in report_texts(directory):
        if relative in skip:
            continue
        digit_runs = set(re.findall(r"\d{9,}", text))
        hits = len(digit_runs & ids)
        hits += _name_hits(text, names, first_words, lengths)
        if hits:
            found[relative] = hits
    return found
