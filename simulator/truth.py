"""Ground truth: the rule codes each record, citizen and household must get, from the semantic columns.

Derived independently of the rendered text: who a record is, which ID form and which defect were planted,
and OUTPUTS.md's definitions applied to those facts, once for a perfect linkage and once for ID-only linkage.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from .config import SEEDS_DIR, Geo
from .records import REFORM
from .util import age_at, isin, ymd

TWO_COLUMN = ("vaccination", "social", "children")


def master_mask(people: pd.DataFrame, n_master: int) -> np.ndarray:
    """Which people the master holds: the `in_master` column when the people advanced nights, else the first n."""
    if "in_master" in people.columns:
        return people["in_master"].to_numpy().astype(bool)
    return np.arange(len(people)) < n_master


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
    # the 12 digits as numbers, read through a fixed-width array's code points (no per-value Python)
    z = s.fillna("000000000000").to_numpy().astype("U12").view(np.uint32).reshape(-1, 12).astype("int64") - 48
    d4 = z[:, 3]
    yy = z[:, 4] * 10 + z[:, 5]
    bad_prefix = ~np.isin(z[:, 0] * 100 + z[:, 1] * 10 + z[:, 2], np.asarray(prefixes).astype("int64"))
    sx = pd.Series(sex, dtype=object)
    sex_bad = sx.notna().to_numpy() & ((d4 % 2 == 0) != (sx == "M").to_numpy())
    cent = year // 100 - 19
    year_bad = has_year & ((d4 // 2 != cent) | (yy != year % 100))
    return has & (bad_prefix | sex_bad | year_bad)


def sector_masks(
    src: str, f: pd.DataFrame, people: pd.DataFrame, n_master: int, geo: Geo, as_of: dt.date
) -> tuple[dict[str, dict[str, np.ndarray]], np.ndarray]:
    """Per linkage mode (`perfect`, `deterministic`), one boolean mask per rule; and the resolved commune."""
    pi = f["pi"].to_numpy().astype("int64")
    in_master = master_mask(people, n_master)[pi]
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
        out[mode] = r
    return out, res


def sector_truth(
    src: str, f: pd.DataFrame, people: pd.DataFrame, n_master: int, geo: Geo, as_of: dt.date
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Truth rows of one source, and the people linked by its records (per mode) for population rules."""
    n = len(f)
    pi = f["pi"].to_numpy().astype("int64")
    in_master = master_mask(people, n_master)[pi]
    pm = np.where(in_master, pi, 0)
    masks, res = sector_masks(src, f, people, n_master, geo, as_of)
    out, linked_people = {}, {}
    for mode, r in masks.items():
        out[mode] = _codes(r, n)
        L = ~np.asarray(r["NOT_LINKED"], dtype=bool)
        if src == "civil":
            linked_people[mode + ":death"] = np.unique(pi[L & (f["loai"].to_numpy() == "KHAI_TU")])
        if src == "children":
            linked_people[mode + ":child"] = np.unique(pi[L])
    link = f["link_class"].to_numpy()
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
    idx = np.flatnonzero(master_mask(people, n_master))
    p = people.iloc[idx]
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


def blocking_rules(seeds_dir: Path | None = None) -> frozenset[str]:
    """Rules that keep a record from being reconciled (OUTPUTS.md): criterion dung or sach, FIELD_MISSING,
    and NOT_LINKED (a reconciled record is linked)."""
    rules = pd.read_csv(Path(seeds_dir or SEEDS_DIR) / "rules.csv", dtype=str)
    codes = rules.loc[rules["criterion"].isin(["dung", "sach"]), "rule_code"]
    return frozenset(codes) | {"FIELD_MISSING", "NOT_LINKED"}


def reconciled_from_masks(masks: dict[str, np.ndarray], blocking: frozenset[str]) -> np.ndarray:
    """Reconciled records: no blocking rule fires (masks of one linkage mode)."""
    n = len(masks["NOT_LINKED"])
    out = np.ones(n, dtype=bool)
    for code, mask in masks.items():
        if code in blocking:
            out &= ~np.broadcast_to(np.asarray(mask, dtype=bool), (n,))
    return out


def reconciled_records(truth: pd.DataFrame, blocking: frozenset[str], column: str = "rule_codes") -> pd.Series:
    """Per sector record of a truth frame: reconciled under that column's linkage (index of `truth`)."""
    rec = truth[truth["record_kind"] == "record"]
    codes = rec[column].explode()
    blocked = codes.isin(list(blocking)).groupby(level=0).any()
    return ~blocked.reindex(rec.index).fillna(False).astype(bool)


def clean_id(values: pd.Series) -> pd.Series:
    """An ID as the pipeline cleans it: spaces and dots removed."""
    return values.astype(object).where(values.notna(), None).str.replace(r"[ .]", "", regex=True)


def headline_figures(truth: pd.DataFrame, tables: dict[str, dict[str, pd.DataFrame]]) -> dict[str, dict]:
    """DOMAIN.md's figures at province scope from the ground truth (perfect linkage) and the source tables:
    {indicator: {numerator, denominator, rate}} plus `residents` (master citizens)."""
    rec_ok = reconciled_records(truth, blocking_rules())
    rec = truth.loc[rec_ok.index, ["source", "source_record_id", "true_personal_id"]].assign(ok=rec_ok.to_numpy())

    def part(src: str) -> pd.DataFrame:
        return rec[rec["source"] == src].set_index("source_record_id")

    def fig(num: int, den: int) -> dict:
        return {"numerator": int(num), "denominator": int(den), "rate": 100.0 * num / den if den else None}

    out: dict[str, dict] = {}
    out["residents"] = {"count": int((truth["record_kind"] == "citizen").sum())}
    ch = part("children")
    out["children_reviewed"] = fig(ch["ok"].sum(), len(ch))
    te = tables["children"]["tre_em"].set_index(tables["children"]["tre_em"]["ma_tre"].astype(str))
    own = clean_id(te["ma_dinh_danh"]).reindex(ch.index)
    same = ch["ok"] & own.notna() & (own == ch["true_personal_id"])
    out["children_with_id_code"] = fig(same.sum(), ch["ok"].sum())
    va = part("vaccination")
    signed = set(tables["vaccination"]["ho_chieu_vac_xin"]["ma_doi_tuong"].astype(str))
    out["vaccine_passports_signed"] = fig(va.index.isin(list(signed)).sum(), len(va))
    out["vaccination_clean"] = fig(va["ok"].sum(), len(va))
    ho = tables["civil"]["ho_tich"]
    out["civil_digitised"] = fig((ho["trang_thai_so_hoa"] == "DA_SO_HOA").sum(), len(ho))
    ben = tables["social"]["BENEFICIARY"]
    active = ben["STATUS"] == "ACTIVE"
    bank = ben["BANK_ACCOUNT"].astype(object).where(ben["BANK_ACCOUNT"].notna(), "").str.strip() != ""
    paid = active & (ben["PAY_METHOD"] == "ACCOUNT") & bank
    out["social_account_payment"] = fig(paid.sum(), active.sum())
    so = part("social")
    out["social_reconciled"] = fig(so["ok"].sum(), len(so))
    return out


def _failing(truth: pd.DataFrame, column: str) -> pd.DataFrame:
    """(source, source_record_id, rule_code, commune_code) of every rule a night's truth says fails."""
    t = truth[["source", "source_record_id", column, "commune_code"]].explode(column)
    t = t[t[column].notna()].rename(columns={column: "rule_code"})
    return t.drop_duplicates(["source", "source_record_id", "rule_code"]).reset_index(drop=True)


def expected_finding_changes(
    truths: list[tuple[dt.date, pd.DataFrame]], column: str = "rule_codes", seeds_dir: Path | None = None
) -> pd.DataFrame:
    """What `marts.fct_finding_changes` must hold for the last of the kept nights (OUTPUTS.md), from the
    nights' truths in any order: per (source, source_record_id, rule_code) failing tonight or on the previous
    kept night, its status (new / open / fixed / gone) and the first night of its unbroken run of failures."""
    key = ["source", "source_record_id", "rule_code"]
    nights = sorted(truths, key=lambda x: x[0])
    if not nights:
        raise ValueError("expected_finding_changes needs at least one night")
    run = pd.DataFrame(columns=[*key, "first_seen_as_of"])
    fails = []
    for as_of, truth in nights:  # a loop over the nights (a handful), not over rows
        f = _failing(truth, column)
        f = f.merge(run, on=key, how="left")
        f["first_seen_as_of"] = f["first_seen_as_of"].where(f["first_seen_as_of"].notna(), as_of)
        run = f[[*key, "first_seen_as_of"]]
        fails.append(f)
    as_of, truth = nights[-1]
    tonight = fails[-1].assign(as_of=as_of)
    if len(nights) == 1:
        prev_as_of, prev = None, fails[-1].iloc[0:0]
    else:
        prev_as_of, prev = nights[-2][0], fails[-2]
    both = tonight.merge(prev[key], on=key, how="left", indicator=True)
    tonight = tonight.assign(status=np.where(both["_merge"].to_numpy() == "both", "open", "new"))
    ended = prev.merge(tonight[key], on=key, how="left", indicator=True)
    ended = prev[(ended["_merge"] == "left_only").to_numpy()]
    exists = truth[["source", "source_record_id"]].drop_duplicates()
    ex = ended.merge(exists, on=["source", "source_record_id"], how="left", indicator=True)["_merge"] == "both"
    ended = ended.assign(status=np.where(ex.to_numpy(), "fixed", "gone"))
    # tonight's commune for fixed records, else the previous night's
    com = truth.drop_duplicates(["source", "source_record_id"]).set_index(["source", "source_record_id"])[
        "commune_code"
    ]
    now = com.reindex(pd.MultiIndex.from_frame(ended[["source", "source_record_id"]])).to_numpy()
    ended = ended.assign(commune_code=np.where(ex.to_numpy(), now, ended["commune_code"].to_numpy()))
    out = pd.concat([tonight, ended], ignore_index=True)
    rules = pd.read_csv(Path(seeds_dir or SEEDS_DIR) / "rules.csv", dtype=str).set_index("rule_code")["criterion"]
    out = out.assign(as_of=as_of, previous_as_of=prev_as_of, criterion=out["rule_code"].map(rules).to_numpy())
    cols = ["as_of", "previous_as_of", *key, "criterion", "commune_code", "status", "first_seen_as_of"]
    return out[cols].sort_values(key, kind="stable").reset_index(drop=True)
