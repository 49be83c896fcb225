"""Checks of the committed reference data in seeds/ (see docs/internal-contracts.md, "Reference data")."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

COLUMNS = {
    "admin_communes.csv": ["commune_code", "commune_name", "commune_type", "province_code", "province_name"],
    "admin_communes_legacy.csv": [
        "commune_code",
        "commune_name",
        "commune_type",
        "district_code",
        "district_name",
        "province_code",
        "province_name",
    ],
    "commune_crosswalk.csv": ["old_commune_code", "new_commune_code", "is_default"],
    "admin_provinces.csv": ["province_code", "province_name"],
    "id_province_codes.csv": ["id_prefix", "province_name"],
    "rules.csv": [
        "rule_code",
        "criterion",
        "applies_to",
        "needs_link",
        "description_vi",
        "description_en",
        "action_vi",
        "action_en",
    ],
    "indicators.csv": ["indicator_code", "name_vi", "name_en", "source", "criterion", "target"],
    "vaccines.csv": ["vaccine_code", "name_vi", "name_en"],
    "social_categories.csv": ["category_code", "name_vi", "name_en"],
}

# The rule catalogue of shared/design/OUTPUTS.md, typed here: rule_code -> criterion.
RULE_CATALOGUE = {
    "ID_MISSING": "du",
    "ID_MALFORMED": "sach",
    "ID_UNKNOWN": "dung",
    "ID_CONFLICT": "dung",
    "LEGACY_ID_ONLY": "du",
    "NAME_MISMATCH": "dung",
    "NAME_UNACCENTED": "sach",
    "BIRTH_DATE_MISMATCH": "dung",
    "SEX_MISMATCH": "dung",
    "NOT_LINKED": "du",
    "DUPLICATE": "sach",
    "COMMUNE_UNKNOWN": "sach",
    "COMMUNE_OUTDATED": "song",
    "RESIDENCE_MISMATCH": "song",
    "DECEASED_ACTIVE": "song",
    "PAID_AFTER_DEATH": "song",
    "FIELD_MISSING": "du",
    "DATE_INVALID": "sach",
    "NOT_DIGITISED": "du",
    "STALE": "song",
    "HOUSEHOLD_NO_HEAD": "sach",
    "HOUSEHOLD_MULTI_HEAD": "sach",
    "LEGACY_ID_MALFORMED": "sach",
    "CHILD_NO_RESIDENCE": "du",
    "DEATH_NOT_RECORDED": "song",
    "CHILD_NOT_IN_REGISTRY": "du",
    "ROW_REJECTED": "sach",  # issue 8
    "PERSONAL_ID_MALFORMED": "sach",  # issue 8
}
NEEDS_LINK = {
    "NAME_MISMATCH",
    "NAME_UNACCENTED",
    "BIRTH_DATE_MISMATCH",
    "SEX_MISMATCH",
    "DUPLICATE",
    "RESIDENCE_MISMATCH",
    "DECEASED_ACTIVE",
    "PAID_AFTER_DEATH",
    "DEATH_NOT_RECORDED",
    "CHILD_NOT_IN_REGISTRY",
    "LEGACY_ID_ONLY",
}
NAMED_INDICATORS = {
    "children_reviewed": "children",
    "children_with_id_code": "children",
    "vaccination_clean": "vaccination",
    "vaccine_passports_signed": "vaccination",
    "civil_digitised": "civil",
    "social_account_payment": "social",
    "social_reconciled": "social",
    "population_clean": "population",
}
SOURCES = ["population", "vaccination", "social", "civil", "children"]
CRITERIA = ["dung", "du", "sach", "song"]


@cache
def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def rows(name: str) -> list[dict[str, str]]:
    return read(name)[1]


def is_code(value: str, width: int) -> bool:
    return len(value) == width and value.isdigit()


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_columns_text_and_order(name: str) -> None:
    raw = (SEEDS / name).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
    assert b"\r" not in raw
    header, data = read(name)
    assert header == COLUMNS[name]
    assert data, name
    for row in data:
        for value in row.values():
            assert value == unicodedata.normalize("NFC", value)
            assert value == value.strip()
    key = [tuple(r.values()) for r in data]
    assert key == sorted(key), f"{name} rows are not sorted"
    assert len({next(iter(r.values())) for r in data}) == len(data) or name == "commune_crosswalk.csv"


def test_current_communes() -> None:
    data = rows("admin_communes.csv")
    assert len(data) == 3321
    assert len({r["commune_code"] for r in data}) == 3321
    assert all(is_code(r["commune_code"], 5) and is_code(r["province_code"], 2) for r in data)
    assert {r["commune_type"] for r in data} == {"Xã", "Phường", "Đặc khu"}
    assert all(r["commune_name"] and r["province_name"] for r in data)


def test_provinces() -> None:
    data = rows("admin_provinces.csv")
    assert len(data) == 34
    assert all(is_code(r["province_code"], 2) and r["province_name"] for r in data)
    from_communes = {(r["province_code"], r["province_name"]) for r in rows("admin_communes.csv")}
    assert {(r["province_code"], r["province_name"]) for r in data} == from_communes


def test_legacy_communes() -> None:
    data = rows("admin_communes_legacy.csv")
    assert 10_000 <= len(data) <= 10_040
    assert len({r["commune_code"] for r in data}) == len(data)
    assert all(
        is_code(r["commune_code"], 5) and is_code(r["district_code"], 3) and is_code(r["province_code"], 2)
        for r in data
    )
    assert {r["commune_type"] for r in data} == {"Xã", "Phường", "Thị trấn"}
    assert len({r["province_code"] for r in data}) == 63
    assert len({r["district_code"] for r in data}) > 600


def test_id_province_codes() -> None:
    data = rows("id_province_codes.csv")
    assert len(data) == 63
    assert all(is_code(r["id_prefix"], 3) and r["id_prefix"][0] == "0" for r in data)
    legacy = {("0" + r["province_code"], r["province_name"]) for r in rows("admin_communes_legacy.csv")}
    assert {(r["id_prefix"], r["province_name"]) for r in data} == legacy
    prefixes = {r["id_prefix"] for r in data}
    assert {"001", "079", "096"} <= prefixes  # Hà Nội, Hồ Chí Minh, Cà Mau (DOMAIN.md)
    assert "003" not in prefixes


def test_code_lists_reuse_numbers() -> None:
    # SOURCES.md: 00070 was Phường Hàng Trống, is now Phường Hoàn Kiếm.
    old = {r["commune_code"]: r["commune_name"] for r in rows("admin_communes_legacy.csv")}
    new = {r["commune_code"]: r["commune_name"] for r in rows("admin_communes.csv")}
    assert old["00070"] == "Phường Hàng Trống"
    assert new["00070"] == "Phường Hoàn Kiếm"
    default = {
        r["old_commune_code"]: r["new_commune_code"] for r in rows("commune_crosswalk.csv") if r["is_default"] == "true"
    }
    assert default["00070"] == "00070"


def test_crosswalk() -> None:
    data = rows("commune_crosswalk.csv")
    old_codes = {r["commune_code"] for r in rows("admin_communes_legacy.csv")}
    new_codes = {r["commune_code"] for r in rows("admin_communes.csv")}
    assert all(is_code(r["old_commune_code"], 5) and is_code(r["new_commune_code"], 5) for r in data)
    assert {r["is_default"] for r in data} == {"true", "false"}
    pairs = [(r["old_commune_code"], r["new_commune_code"]) for r in data]
    assert len(pairs) == len(set(pairs))
    assert {o for o, _ in pairs} <= old_codes
    assert {n for _, n in pairs} <= new_codes
    defaults = Counter(r["old_commune_code"] for r in data if r["is_default"] == "true")
    assert set(defaults) == {o for o, _ in pairs}
    assert set(defaults.values()) == {1}
    # every legacy commune of the list is mapped, and every current commune is somebody's successor except the
    # five island special zones whose pre-2025 districts had no communes (so no old commune code)
    assert {o for o, _ in pairs} == old_codes
    orphans = new_codes - {n for _, n in pairs}
    special_zones = {r["commune_code"] for r in rows("admin_communes.csv") if r["commune_type"] == "Đặc khu"}
    assert orphans <= special_zones
    assert len(orphans) == 5
    # undivided communes: a single row; divided ones: one row per successor
    per_old = Counter(o for o, _ in pairs)
    single = [r for r in data if per_old[r["old_commune_code"]] == 1]
    assert all(r["is_default"] == "true" for r in single)
    assert 0 < sum(1 for n in per_old.values() if n > 1) < len(per_old)


def test_crosswalk_stays_in_province() -> None:
    """A commune's successors belong to the new province its old province merged into (one new province per
    old province)."""
    old_province = {r["commune_code"]: r["province_code"] for r in rows("admin_communes_legacy.csv")}
    new_province = {r["commune_code"]: r["province_code"] for r in rows("admin_communes.csv")}
    merged: dict[str, set[str]] = {}
    for r in rows("commune_crosswalk.csv"):
        merged.setdefault(old_province[r["old_commune_code"]], set()).add(new_province[r["new_commune_code"]])
    assert all(len(v) == 1 for v in merged.values())
    assert len({next(iter(v)) for v in merged.values()}) == 34


def test_rules() -> None:
    data = rows("rules.csv")
    assert len(data) == 28
    assert {r["rule_code"]: r["criterion"] for r in data} == RULE_CATALOGUE
    assert {r["rule_code"] for r in data if r["needs_link"] == "true"} == NEEDS_LINK
    assert {r["needs_link"] for r in data} == {"true", "false"}
    for r in data:
        for col in ("applies_to", "description_vi", "description_en", "action_vi", "action_en"):
            assert r[col].strip(), (r["rule_code"], col)
        # Vietnamese text really is Vietnamese (has diacritics)
        assert any(unicodedata.decomposition(ch) for ch in r["description_vi"]), r["rule_code"]
        assert any(unicodedata.decomposition(ch) or ch in "đĐ" for ch in r["action_vi"]), r["rule_code"]


def test_indicators() -> None:
    data = rows("indicators.csv")
    assert len(data) == 28
    by_code = {r["indicator_code"]: r for r in data}
    expected = dict(NAMED_INDICATORS)
    expected.update({f"{s}_{c}": s for s in SOURCES for c in CRITERIA})
    assert {code: r["source"] for code, r in by_code.items()} == expected
    for code, r in by_code.items():
        assert r["criterion"] == ("" if code in NAMED_INDICATORS else code.rsplit("_", 1)[1])
        assert 0 <= float(r["target"]) <= 100
        assert r["name_vi"] and r["name_en"]
    assert by_code["children_with_id_code"]["target"] == "100"
    assert by_code["civil_digitised"]["target"] == "100"
    assert by_code["vaccine_passports_signed"]["target"] == "90"
    assert by_code["social_account_payment"]["target"] == "80"


def test_vaccines_and_categories() -> None:
    vaccines = {r["vaccine_code"] for r in rows("vaccines.csv")}
    assert {"BCG", "VGB", "DPT-VGB-Hib", "OPV", "MR", "COVID-19"} <= vaccines
    assert {r["category_code"] for r in rows("social_categories.csv")} == {"NCT80", "KT", "TMC", "NCC", "HN"}
    for name in ("vaccines.csv", "social_categories.csv"):
        assert all(r["name_vi"] and r["name_en"] for r in rows(name))


@pytest.mark.skipif(importlib.util.find_spec("vietnamadminunits") is None, reason="needs the 'seeds' dependency group")
def test_committed_seeds_match_generator(tmp_path: Path) -> None:
    """The committed CSVs are exactly what seeds/generate.py writes (deterministic, up to date)."""
    result = subprocess.run(
        [sys.executable, str(SEEDS / "generate.py"), "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in COLUMNS:
        assert (tmp_path / name).read_bytes() == (SEEDS / name).read_bytes(), name
