"""Ground truth: the rule codes each record, citizen and household must get, from the semantic columns.

Derived independently of the rendered text: who a record is, which ID form and which defect were planted,
and OUTPUTS.md's definitions applied to those facts, once for a perfect linkage and once for ID-only linkage.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .config import Geo
from .records import REFORM
from .util import age_at, isin, ymd

TWO_COLUMN = ("vaccination", "social", "children")


def _resolve(f: pd.DataFrame, src: str, geo: Geo) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(resolved current commune, COMMUNE_UNKNOWN, COMMUNE_OUTDATED, commune missing) per record."""
    cur_set = set(geo.current_codes_all)
    old_set = set(geo.legacy_codes_all)
    succ = geo.default_successor
    if src == "civil":
        noi = f["noi"].to_numpy()
        pre = f["reg"].to_numpy() < REFORM
        has = pd.notna(noi)
        in_old = pd.Series(noi, dtype=object).isin(old_set).to_numpy()
        in_cur = pd.Series(noi, dtype=object).isin(cur_set).to_numpy()
        valid = has & np.where(pre, in_old, in_cur)
        mapped = pd.Series(noi).map(succ).to_numpy()
        res = np.where(valid, np.where(pre, mapped, noi), None)
        return res, has & ~valid, np.zeros(len(f), bool), ~has
    cur = f["cur"].to_numpy()
    old = f["old"].to_numpy()
    hc = pd.notna(cur)
    ho = pd.notna(old)
    cur_ok = hc & pd.Series(cur, dtype=object).isin(cur_set).to_numpy()
    old_ok = ~hc & ho & pd.Series(old, dtype=object).isin(old_set).to_numpy()
    mapped = pd.Series(old).map(succ).to_numpy()
    res = np.where(cur_ok, cur, np.where(old_ok, mapped, None))
    unknown = (hc & ~cur_ok) | (~hc & ho & ~old_ok)
    return res, unknown, old_ok, ~hc & ~ho


def _id_conflict(
    id12: np.ndarray, sex: np.ndarray, year: np.ndarray, has_year: np.ndarray, prefixes: np.ndarray
) -> np.ndarray:
    """12-digit ID vs the record's own sex and birth year, and the 63 valid prefixes."""
    s = pd.Series(id12, dtype=object)
    has = s.notna().to_numpy()
    z = s.fillna("000000000000")
    d4 = z.str[3].astype(int).to_numpy()
    yy = z.str[4:6].astype(int).to_numpy()
    bad_prefix = ~z.str[:3].astype(object).isin(list(prefixes)).to_numpy()
    sx = pd.Series(sex, dtype=object)
    sex_bad = sx.notna().to_numpy() & ((d4 % 2 == 0) != (sx == "M").to_numpy())
    cent = year // 100 - 19
    year_bad = has_year & ((d4 // 2 != cent) | (yy != year % 100))
    return has & (bad_prefix | sex_bad | year_bad)


def sector_truth(
    src: str, f: pd.DataFrame, people: pd.DataFrame, n_master: int, geo: Geo, as_of: dt.date
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Truth rows of one source, and the people linked by its records (per mode) for population rules."""
    n = len(f)
    pi = f["pi"].to_numpy().astype("int64")
    in_master = pi < n_master
    link = f["link_class"].to_numpy()
    kind = f["id_kind"].to_numpy()
    attr = f["attr"].to_numpy()
    dob_ok = f["dob_state"].to_numpy() == "ok"
    dob = f["dob"].to_numpy().astype("int64")
    ry, rm, rd = ymd(dob)
    sex = f["sex"].to_numpy()
    base: dict[str, np.ndarray] = {}
    base["ID_MISSING"] = kind == "missing"
    base["ID_MALFORMED"] = isin(kind, ["lost", "garbage"])
    base["ID_UNKNOWN"] = isin(kind, ["unk12", "unk9"])
    base["LEGACY_ID_ONLY"] = kind == "legacy"
    base["ID_CONFLICT"] = _id_conflict(f["id12"].to_numpy(), sex, ry, dob_ok, geo.id_prefixes)
    inv = f["dob_state"].to_numpy() == "invalid"
    if src == "vaccination":
        inv = inv | (dob_ok & (f["min_dose"].to_numpy() < dob))
    base["DATE_INVALID"] = inv
    res, unknown, outdated, cmiss = _resolve(f, src, geo)
    base["COMMUNE_UNKNOWN"] = unknown
    if src in TWO_COLUMN:
        base["COMMUNE_OUTDATED"] = outdated
    fm = (attr == "name_null") | (attr == "paper") | (f["dob_state"].to_numpy() == "null") | pd.isna(sex) | cmiss
    if src == "social":
        fm = fm | f["bank_missing"].to_numpy().astype(bool)
    base["FIELD_MISSING"] = fm
    if src == "civil":
        base["NOT_DIGITISED"] = f["status"].to_numpy() != "DA_SO_HOA"
    if src == "children":
        rev = f["review"].to_numpy()
        base["STALE"] = (rev < 0) | (as_of.toordinal() - 719163 - rev > 365)

    # master facts of the person each record is (ghost rows have none)
    pm = np.where(in_master, pi, 0)
    m_bstr = people["m_bstr"].to_numpy()[pm]
    m_prec = people["prec"].to_numpy()[pm]
    my, mm, md = ymd(people["birth"].to_numpy()[pm].astype("int64"))
    m_sex = people["m_sex"].to_numpy()[pm]
    m_commune = people["m_commune"].to_numpy()[pm]
    m_status = people["status"].to_numpy()[pm]
    m_death = people["death"].to_numpy()[pm]
    diac = people["name_diac"].to_numpy()[pm].astype(bool)

    date_diff = np.where(
        m_prec == "Y", ry != my, np.where(m_prec == "M", (ry != my) | (rm != mm), (ry != my) | (rm != mm) | (rd != md))
    )
    modes = {
        "perfect": in_master & (link != "none"),
        "deterministic": in_master & isin(link, ["personal_id", "legacy_id"]),
    }
    out = {}
    linked_people = {}
    for mode, L in modes.items():
        r = dict(base)
        r["NOT_LINKED"] = ~L
        r["NAME_MISMATCH"] = L & (attr == "typo")
        r["NAME_UNACCENTED"] = L & (attr == "unacc") & diac
        r["BIRTH_DATE_MISMATCH"] = L & dob_ok & pd.notna(m_bstr) & date_diff
        r["SEX_MISMATCH"] = L & pd.notna(sex) & pd.notna(m_sex) & (sex != m_sex)
        elig = L & ((f["loai"].to_numpy() == "KHAI_SINH") if src == "civil" else True)
        cnt = pd.Series(pi[elig]).value_counts()
        r["DUPLICATE"] = elig & (pd.Series(pi).map(cnt).fillna(0).to_numpy() >= 2)
        if src in TWO_COLUMN:
            r["RESIDENCE_MISMATCH"] = L & pd.notna(res) & pd.notna(m_commune) & (res != m_commune)
        gone = isin(m_status, ["DECEASED", "RENOUNCED"])
        if src == "social":
            r["DECEASED_ACTIVE"] = L & gone & f["active"].to_numpy().astype(bool)
            r["PAID_AFTER_DEATH"] = L & (m_status == "DECEASED") & (f["max_paid"].to_numpy() > m_death)
        if src == "children":
            r["DECEASED_ACTIVE"] = L & gone
        out[mode] = _codes(r, n)
        if src == "civil":
            linked_people[mode + ":death"] = np.unique(pi[L & (f["loai"].to_numpy() == "KHAI_TU")])
        if src == "children":
            linked_people[mode + ":child"] = np.unique(pi[L])
    truth = pd.DataFrame(
        {
            "source": src,
            "source_record_id": f["rid"].astype(str).to_numpy(),
            "record_kind": "record",
            "true_personal_id": np.where(in_master, people["pid"].to_numpy()[pm], None),
            "link_class": link,
            "rule_codes": out["perfect"],
            "rule_codes_deterministic": out["deterministic"],
            "commune_code": res,
        }
    )
    return truth, linked_people


def _codes(r: dict[str, np.ndarray], n: int) -> list[list[str]]:
    """Per row, the sorted list of rule codes whose mask is true (via one bitmask per row)."""
    if n == 0:
        return []
    codes = sorted(r)
    mask = np.zeros(n, dtype="int64")
    for bit, c in enumerate(codes):
        mask |= np.broadcast_to(np.asarray(r[c], dtype=bool), (n,)).astype("int64") << bit
    uniq, inv = np.unique(mask, return_inverse=True)
    lists = [[c for bit, c in enumerate(codes) if (int(u) >> bit) & 1] for u in uniq]
    return [lists[i] for i in inv]


def population_truth(
    people: pd.DataFrame,
    households: pd.DataFrame,
    n_master: int,
    geo: Geo,
    as_of: dt.date,
    linked: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Truth rows for citizens and households."""
    p = people.iloc[:n_master]
    n = len(p)
    birth = p["birth"].to_numpy().astype("int64")
    y, _, _ = ymd(birth)
    has_b = pd.notna(p["m_bstr"]).to_numpy()
    status = p["status"].to_numpy()
    base = {
        "FIELD_MISSING": (p[["m_sex", "m_eth", "m_bstr", "m_commune"]].isna().any(axis=1)).to_numpy(),
        "ID_CONFLICT": _id_conflict(p["pid"].to_numpy(), p["m_sex"].to_numpy(), y, has_b, geo.id_prefixes),
        "LEGACY_ID_MALFORMED": p["legacy_bad"].to_numpy().astype(bool),
    }
    u16 = has_b & (p["prec"].to_numpy() == "D") & (age_at(birth, as_of) < 16)
    alive = status == "ALIVE"
    base["CHILD_NO_RESIDENCE"] = alive & u16 & p["m_commune"].isna().to_numpy()
    idx = np.arange(n)
    out = {}
    for mode in ("perfect", "deterministic"):
        r = dict(base)
        r["DEATH_NOT_RECORDED"] = alive & isin(idx, linked.get(mode + ":death", []))
        r["CHILD_NOT_IN_REGISTRY"] = alive & u16 & ~isin(idx, linked.get(mode + ":child", []))
        out[mode] = _codes(r, n)
    cit = pd.DataFrame(
        {
            "source": "population",
            "source_record_id": p["pid"].to_numpy(),
            "record_kind": "citizen",
            "true_personal_id": p["pid"].to_numpy(),
            "link_class": "personal_id",
            "rule_codes": out["perfect"],
            "rule_codes_deterministic": out["deterministic"],
            "commune_code": p["m_commune"].to_numpy(),
        }
    )
    heads = pd.Series(p["relation"].to_numpy() == "HEAD").groupby(p["hh"].to_numpy()).sum()
    heads = heads.reindex(households["hh"].to_numpy()).fillna(0).to_numpy()
    hr = {"HOUSEHOLD_NO_HEAD": heads == 0, "HOUSEHOLD_MULTI_HEAD": heads > 1}
    hc = _codes(hr, len(households))
    hh = pd.DataFrame(
        {
            "source": "population",
            "source_record_id": households["household_id"].to_numpy(),
            "record_kind": "household",
            "true_personal_id": None,
            "link_class": None,
            "rule_codes": hc,
            "rule_codes_deterministic": hc,
            "commune_code": households["commune"].to_numpy(),
        }
    )
    return pd.concat([cit, hh], ignore_index=True)
