"""Tests of the simulated province: contract shape, determinism, planted rules, realism, truth agreement."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter

import pandas as pd
import pytest
import sqlalchemy as sa

from simulator import simulate

from .checker import check

AS_OF = dt.date(2025, 11, 20)
SOURCES = ("population", "vaccination", "social", "civil", "children")
V, C1, INT, DATE, TS = "VARCHAR", "CHAR(1)", "INTEGER", "DATE", "TIMESTAMP"
# SOURCES.md, typed in by hand: table -> [(column, SQL type, primary key)]
CONTRACT = {
    "population": {
        "citizen": [
            ("personal_id", "VARCHAR(12)", True),
            ("full_name", V, False),
            ("birth_date", "VARCHAR(10)", False),
            ("sex", C1, False),
            ("ethnicity", V, False),
            ("commune_code", "VARCHAR(5)", False),
            ("household_id", V, False),
            ("relation_to_head", V, False),
            ("legacy_id9", V, False),
            ("father_id", "VARCHAR(12)", False),
            ("mother_id", "VARCHAR(12)", False),
            ("status", V, False),
            ("death_date", "VARCHAR(10)", False),
            ("updated_at", TS, False),
        ],
        "household": [
            ("household_id", V, True),
            ("commune_code", "VARCHAR(5)", False),
            ("address_line", V, False),
            ("updated_at", TS, False),
        ],
    },
    "vaccination": {
        "doi_tuong": [
            ("ma_doi_tuong", V, True),
            ("ho_ten", V, False),
            ("ngay_sinh", V, False),
            ("gioi_tinh", V, False),
            ("so_giay_to", V, False),
            ("dien_thoai", V, False),
            ("ma_xa", V, False),
            ("ma_xa_cu", V, False),
            ("ngay_cap_nhat", V, False),
        ],
        "mui_tiem": [
            ("ma_mui", V, True),
            ("ma_doi_tuong", V, False),
            ("ma_vac_xin", V, False),
            ("mui_thu", INT, False),
            ("ngay_tiem", V, False),
            ("co_so_tiem", V, False),
        ],
        "ho_chieu_vac_xin": [("ma_doi_tuong", V, False), ("ngay_ky", V, False)],
    },
    "social": {
        "BENEFICIARY": [
            ("BENEFICIARY_ID", INT, True),
            ("FULL_NAME", V, False),
            ("DOB", DATE, False),
            ("GENDER", INT, False),
            ("ID_NUMBER", V, False),
            ("CATEGORY", V, False),
            ("COMMUNE_CODE", V, False),
            ("COMMUNE_CODE_OLD", V, False),
            ("PAY_METHOD", V, False),
            ("BANK_ACCOUNT", V, False),
            ("MONTHLY_AMOUNT", INT, False),
            ("STATUS", V, False),
            ("UPDATED_AT", TS, False),
        ],
        "PAYMENT": [
            ("PAYMENT_ID", INT, True),
            ("BENEFICIARY_ID", INT, False),
            ("PERIOD", V, False),
            ("AMOUNT", INT, False),
            ("METHOD", V, False),
            ("PAID_AT", DATE, False),
        ],
    },
    "civil": {
        "ho_tich": [
            ("id", INT, True),
            ("loai", V, False),
            ("quyen_so", V, False),
            ("so_dang_ky", V, False),
            ("ngay_dang_ky", V, False),
            ("noi_dang_ky", V, False),
            ("ho_ten", V, False),
            ("ngay_sinh", V, False),
            ("gioi_tinh", V, False),
            ("so_dinh_danh", V, False),
            ("ngay_chet", V, False),
            ("ho_ten_cha", V, False),
            ("ho_ten_me", V, False),
            ("ho_ten_2", V, False),
            ("so_dinh_danh_2", V, False),
            ("trang_thai_so_hoa", V, False),
            ("cap_nhat_luc", V, False),
        ],
    },
    "children": {
        "tre_em": [
            ("ma_tre", V, True),
            ("ho_va_ten", V, False),
            ("ngay_sinh", V, False),
            ("gioi_tinh", V, False),
            ("ma_dinh_danh", V, False),
            ("ho_ten_me", V, False),
            ("cccd_me", V, False),
            ("ma_xa", V, False),
            ("ma_xa_cu", V, False),
            ("hoan_canh", V, False),
            ("ngay_ra_soat", V, False),
            ("cap_nhat", V, False),
        ],
    },
}
ALL_RULES = {
    "ID_MISSING",
    "ID_MALFORMED",
    "ID_UNKNOWN",
    "ID_CONFLICT",
    "LEGACY_ID_ONLY",
    "NAME_MISMATCH",
    "NAME_UNACCENTED",
    "BIRTH_DATE_MISMATCH",
    "SEX_MISMATCH",
    "NOT_LINKED",
    "DUPLICATE",
    "COMMUNE_UNKNOWN",
    "COMMUNE_OUTDATED",
    "RESIDENCE_MISMATCH",
    "DECEASED_ACTIVE",
    "PAID_AFTER_DEATH",
    "FIELD_MISSING",
    "DATE_INVALID",
    "NOT_DIGITISED",
    "STALE",
    "HOUSEHOLD_NO_HEAD",
    "HOUSEHOLD_MULTI_HEAD",
    "LEGACY_ID_MALFORMED",
    "CHILD_NO_RESIDENCE",
    "DEATH_NOT_RECORDED",
    "CHILD_NOT_IN_REGISTRY",
}


def _run(root, scenario: str, seed: int = 0) -> dict:
    urls = {s: f"sqlite:///{root}/{s}.sqlite" for s in SOURCES}
    counts = simulate(scenario, seed=seed, as_of=AS_OF, urls=urls, truth_path=root / "ground_truth.parquet")
    return {"urls": urls, "counts": counts, "truth": pd.read_parquet(root / "ground_truth.parquet"), "root": root}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("tiny"), "tiny")


@pytest.fixture(scope="module")
def tiny_clean(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("tiny_clean"), "tiny_clean")


def _dump(root) -> dict:
    out = {}
    for s in SOURCES:
        with sqlite3.connect(root / f"{s}.sqlite") as con:
            for (t,) in con.execute("select name from sqlite_master where type='table' order by name"):
                out[f"{s}.{t}"] = con.execute(f'select * from "{t}"').fetchall()
    return out


def test_same_seed_same_databases_and_truth(tiny, tmp_path):
    again = _run(tmp_path, "tiny")
    assert again["counts"] == tiny["counts"]
    assert _dump(tmp_path) == _dump(tiny["root"])
    pd.testing.assert_frame_equal(again["truth"], tiny["truth"])


def test_tables_columns_and_types_follow_sources_md(tiny):
    for source, tables in CONTRACT.items():
        insp = sa.inspect(sa.create_engine(tiny["urls"][source]))
        assert set(insp.get_table_names()) == set(tables)
        for table, cols in tables.items():
            got = insp.get_columns(table)
            assert [c["name"] for c in got] == [c[0] for c in cols]
            assert [str(c["type"]) for c in got] == [c[1] for c in cols], table
            pk = insp.get_pk_constraint(table)["constrained_columns"]
            assert pk == [c[0] for c in cols if c[2]], table


def test_every_rule_is_planted_in_tiny(tiny):
    t = tiny["truth"]
    perfect = Counter(x for codes in t["rule_codes"] for x in codes)
    det = Counter(x for codes in t["rule_codes_deterministic"] for x in codes)
    assert set(perfect) == ALL_RULES
    assert set(det) == ALL_RULES
    assert all(v >= 2 for v in perfect.values()), perfect
    assert set(t["link_class"].dropna()) == {"personal_id", "legacy_id", "probabilistic", "none"}


def test_truth_has_one_row_per_record(tiny):
    t = tiny["truth"]
    c = tiny["counts"]
    n = t.groupby(["source", "record_kind"]).size().to_dict()
    assert n[("population", "citizen")] == c["population.citizen"]
    assert n[("population", "household")] == c["population.household"]
    assert n[("vaccination", "record")] == c["vaccination.doi_tuong"]
    assert n[("social", "record")] == c["social.BENEFICIARY"]
    assert n[("civil", "record")] == c["civil.ho_tich"]
    assert n[("children", "record")] == c["children.tre_em"]
    assert not t.duplicated(["source", "source_record_id"]).any()


def test_clean_scenario_has_no_finding(tiny_clean):
    t = tiny_clean["truth"]
    assert t["rule_codes"].map(len).sum() == 0
    assert t["rule_codes_deterministic"].map(len).sum() == 0


@pytest.mark.parametrize("which", ["tiny", "tiny_clean"])
def test_independent_reading_agrees_with_deterministic_truth(which, request):
    run = request.getfixturevalue(which)
    c = check(run["urls"], AS_OF)
    t = run["truth"]
    j = t.merge(c, on=["source", "source_record_id"], how="outer", indicator=True)
    assert (j["_merge"] == "both").all()
    bad = j[j["rule_codes_deterministic"].map(lambda x: tuple(sorted(x))) != j["rules"].map(tuple)]
    assert len(bad) == 0, bad[["source", "rule_codes_deterministic", "rules"]].head().to_dict("records")
    assert (j["commune_code_x"].fillna("-") == j["commune_code_y"].fillna("-")).all()


def test_realism(tiny_clean):
    eng = sa.create_engine(tiny_clean["urls"]["population"])
    cit = pd.read_sql_table("citizen", eng)
    heads = (cit["relation_to_head"] == "HEAD").groupby(cit["household_id"]).sum()
    assert (heads == 1).all()
    full = cit[cit["birth_date"].str.len() == 10]
    year = full["birth_date"].str[:4].astype(int)
    d4 = full["personal_id"].str[3].astype(int)
    assert (d4 // 2 == year // 100 - 19).all()
    assert (full["personal_id"].str[4:6].astype(int) == year % 100).all()
    assert ((d4 % 2 == 0) == (full["sex"] == "M")).all()
    assert cit["personal_id"].str.fullmatch(r"\d{12}").all()
    nguyen = (cit["full_name"].str.split(" ").str[0] == "Nguyễn").mean()
    assert 0.33 < nguyen < 0.44
    assert 0.45 < (cit["sex"] == "M").mean() < 0.55
    assert 0.75 < (cit["ethnicity"] == "Kinh").mean() < 0.95
    assert cit["commune_code"].notna().all()
    prefixes = cit["personal_id"].str[:3].value_counts(normalize=True)
    assert prefixes.get("024", 0) + prefixes.get("027", 0) > 0.75


def test_a_mover_is_out_of_date_at_the_same_commune_in_every_sector(tiny):
    """A move is a person's: the sectors that have not caught up all keep the one commune the person left."""
    t = tiny["truth"]
    stale = t[(t["record_kind"] == "record") & t["rule_codes"].map(lambda c: "RESIDENCE_MISMATCH" in c)]
    per_person = stale.groupby("true_personal_id").agg(sources=("source", "nunique"), left=("commune_code", "nunique"))
    several = per_person[per_person["sources"] >= 2]
    assert len(several) >= 5, "some movers are out of date in two sectors or more"
    # a record redraws only when the commune left is the person's own (about 1 in 99 communes)
    assert (several["left"] == 1).mean() >= 0.9, per_person["left"].value_counts().to_dict()
