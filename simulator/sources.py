"""The four sector sources built from the simulated people (semantic frames plus rendered tables)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import names as N
from .calibrate import CalibrationError, calibrate_id_code, calibrate_reconciled, choose
from .config import CALIBRATED_SUBJECT_SHARE, SUBJECT_SHARE, share
from .records import REFORM, Ctx, add_ghosts, base_records, birth_text, duplicates
from .text import apply_quirks
from .util import age_at, day, digits, dmy, from_ymd, isin, iso, pick, ts_text, ymd

SEX_VI = {"M": "Nam", "F": "Nữ"}


def _ghost_count(ctx: Ctx, n: int) -> int:
    r = ctx.rates["not_in_master"]
    return 0 if r <= 0 else max(2, int(round(r * n)))


def _dup_count(ctx: Ctx, n: int) -> int:
    """Duplicates among n records (calibrated scenarios fix it from the target count)."""
    r = ctx.rates["duplicate"]
    return 0 if r <= 0 else max(2, int(round(r * n)))


def _mask(n: int, rows: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[rows] = True
    return out


def _finish(ctx: Ctx, frame: pd.DataFrame) -> pd.DataFrame:
    """Shuffle the record order (so duplicates are not neighbours) deterministically."""
    order = ctx.rng.permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- vaccination
EPI = [  # code, dose, min offset days, max offset days
    ("BCG", 1, 0, 30),
    ("VGB", 1, 0, 1),
    ("DPT-VGB-Hib", 1, 60, 75),
    ("OPV", 1, 60, 75),
    ("DPT-VGB-Hib", 2, 90, 110),
    ("OPV", 2, 90, 110),
    ("DPT-VGB-Hib", 3, 120, 140),
    ("OPV", 3, 120, 140),
    ("IPV", 1, 150, 170),
    ("MR", 1, 270, 300),
    ("VNNB", 1, 365, 400),
    ("VNNB", 2, 380, 420),
    ("MR", 2, 540, 570),
    ("DPT", 4, 540, 600),
]


def _doses(ctx: Ctx, pi: np.ndarray) -> pd.DataFrame:
    """Doses (pi, code, dose number, day) by age: the expanded programme for young children, COVID-19."""
    rng, p = ctx.rng, ctx.people
    birth = p["birth"].to_numpy()[pi]
    parts = []
    young = birth >= day(dt.date(2016, 1, 1))
    for code, k, lo, hi in EPI:
        m = young & (rng.random(len(pi)) < 0.95)
        parts.append(
            pd.DataFrame({"pi": pi[m], "code": code, "dose": k, "day": birth[m] + rng.integers(lo, hi + 1, m.sum())})
        )
    adult = birth <= day(dt.date(2009, 12, 31))
    kid = ~adult & (birth <= day(dt.date(2016, 12, 31)))
    cov = (adult | kid) & (rng.random(len(pi)) < 0.93)
    d1 = np.where(
        adult,
        day(dt.date(2021, 7, 15)) + rng.integers(0, 170, len(pi)),
        day(dt.date(2022, 4, 15)) + rng.integers(0, 160, len(pi)),
    )
    d2 = d1 + rng.integers(28, 85, len(pi))
    d3 = d2 + rng.integers(150, 271, len(pi))
    has2 = cov & (rng.random(len(pi)) < 0.95)
    has3 = has2 & adult & (rng.random(len(pi)) < 0.6)
    for m, d, k in ((cov, d1, 1), (has2, d2, 2), (has3, d3, 3)):
        parts.append(pd.DataFrame({"pi": pi[m], "code": "COVID-19", "dose": k, "day": d[m]}))
    doses = pd.concat(parts, ignore_index=True)
    death = p["death"].to_numpy()[doses["pi"].to_numpy()]
    dead = p["dead"].to_numpy()[doses["pi"].to_numpy()].astype(bool)
    ok = (doses["day"] <= ctx.asd - 1) & (~dead | (doses["day"] < death))
    ok &= doses["day"] >= p["birth"].to_numpy()[doses["pi"].to_numpy()]
    return doses[ok.to_numpy()].reset_index(drop=True)


def vaccination(ctx: Ctx, clean: bool) -> dict:
    """doi_tuong (semantic + rendered), mui_tiem, ho_chieu_vac_xin."""
    rng = ctx.rng
    nm = ctx.n_master
    allp = np.arange(nm)
    doses = _doses(ctx, allp)
    has = np.zeros(nm, bool)
    has[doses["pi"].to_numpy()] = True
    subject_share = CALIBRATED_SUBJECT_SHARE if ctx.figures is not None else SUBJECT_SHARE
    subj = np.flatnonzero(has & (rng.random(nm) < subject_share))
    gh = add_ghosts(ctx, _ghost_count(ctx, subj.size))
    gd = _doses(ctx, gh)
    doses = pd.concat([doses[isin(doses["pi"].to_numpy(), subj)], gd], ignore_index=True)
    pis = np.concatenate([subj, gh[isin(gh, gd["pi"].to_numpy())]])
    first = doses.groupby("pi")["day"].min()
    created = first.reindex(pis).to_numpy().astype("int64")
    f = base_records(ctx, pis, created, "vaccination", clean=clean)
    f["dup_of"] = -1
    d = duplicates(ctx, f, "vaccination", np.ones(len(f), bool))
    f["rec"] = np.arange(len(f))
    d["rec"] = -1
    f = pd.concat([f, d], ignore_index=True)
    f = _finish(ctx, f)
    f["rid"] = "DT" + pd.Series(np.arange(1, len(f) + 1)).astype(str).str.zfill(9)
    # doses belong to the original records
    rec_rid = pd.Series(f["rid"].to_numpy(), index=f["rec"].to_numpy())
    orig = f[f["rec"] >= 0]
    pi_to_rid = pd.Series(orig["rid"].to_numpy(), index=orig["pi"].to_numpy())
    doses["rid"] = pi_to_rid.reindex(doses["pi"].to_numpy()).to_numpy()
    doses = doses.sort_values(["rid", "day", "code", "dose"], kind="stable").reset_index(drop=True)
    # doses dated before the record's own birth date
    f["dose_before_birth"] = False
    if not clean and ctx.rates["dose_before_birth"] > 0:
        has_d = isin(f["rid"].to_numpy(), doses["rid"].dropna().unique())
        sel = pick(
            rng,
            has_d & (f["dob_state"].to_numpy() == "ok") & (f["attr"].to_numpy() == "none") & (f["rec"].to_numpy() >= 0),
            ctx.rates["dose_before_birth"],
        )
        bad_rid = set(f["rid"].to_numpy()[sel])
        firstrow = ~doses["rid"].duplicated()
        m = (firstrow & doses["rid"].isin(bad_rid)).to_numpy()
        dob = pd.Series(f["dob"].to_numpy(), index=f["rid"].to_numpy())
        doses.loc[m, "day"] = dob.reindex(doses.loc[m, "rid"]).to_numpy() - rng.integers(1, 200, m.sum())
    mind = doses.groupby("rid")["day"].min()
    f["min_dose"] = mind.reindex(f["rid"].to_numpy()).fillna(10**9).to_numpy().astype("int64")
    del rec_rid
    if ctx.figures is not None and not clean:
        calibrate_reconciled(ctx, f, "vaccination", share(len(f), ctx.figures.vaccination_clean_pct))
    # rendered
    p = ctx.people
    names = ctx.geo.names
    doses["ma_mui"] = "MT" + pd.Series(np.arange(1, len(doses) + 1)).astype(str).str.zfill(10)
    cc = pd.Series(p["commune"].to_numpy()[doses["pi"].to_numpy()]).map(names)
    mui = pd.DataFrame(
        {
            "ma_mui": doses["ma_mui"],
            "ma_doi_tuong": doses["rid"],
            "ma_vac_xin": doses["code"],
            "mui_thu": doses["dose"].astype("int64"),
            "ngay_tiem": dmy(doses["day"].to_numpy()),
            "co_so_tiem": ("Trạm Y tế " + cc.fillna("xã")).to_numpy(),
        }
    )
    cov = doses[(doses["code"] == "COVID-19") & (doses["dose"] == 2)]
    if ctx.figures is None:
        cov = cov[rng.random(len(cov)) < 0.95]
    else:  # exactly the figure's number of signed passports, one per subject
        cov = cov.iloc[choose(ctx, np.arange(len(cov)), ctx.figures.passports_signed, "passports_signed")]
    ky = np.minimum(cov["day"].to_numpy() + rng.integers(1, 60, len(cov)), ctx.asd - 1)
    hc = pd.DataFrame({"ma_doi_tuong": cov["rid"].to_numpy(), "ngay_ky": iso(ky)})
    phone = pd.Series("09", index=f.index) + digits(rng, len(f), 8)
    phone[rng.random(len(f)) < 0.3] = None
    doi = pd.DataFrame(
        {
            "ma_doi_tuong": f["rid"],
            "ho_ten": f["name_text"],
            "ngay_sinh": birth_text(ctx, f, "dmy"),
            "gioi_tinh": f["sex"].map(SEX_VI),
            "so_giay_to": f["id_text"],
            "dien_thoai": phone,
            "ma_xa": f["cur"],
            "ma_xa_cu": f["old"],
            "ngay_cap_nhat": ts_text(f["updated"].to_numpy()),
        }
    )
    f["source"] = "vaccination"
    return {"frame": f, "tables": {"doi_tuong": doi, "mui_tiem": mui, "ho_chieu_vac_xin": hc}}


# ---------------------------------------------------------------------------------------------------- social
AMOUNT = {"NCT80": 500_000, "KT": 750_000, "TMC": 1_000_000, "NCC": 2_055_000, "HN": 500_000}


def social(ctx: Ctx, clean: bool) -> dict:
    """BENEFICIARY (semantic + rendered) and PAYMENT."""
    rng, p, r = ctx.rng, ctx.people.iloc[: ctx.n_master], ctx.rates
    nm = ctx.n_master
    asd = ctx.asd
    birth = p["birth"].to_numpy()
    y, _, _ = ymd(birth)
    age = ctx.as_of.year - y
    status = p["status"].to_numpy()
    dead_m = status == "DECEASED"
    death = p["death"].to_numpy()
    recent = ~dead_m | (death > asd - 730)
    u = rng.random(nm)
    cat = np.full(nm, None, dtype=object)
    cat[(age >= 80) & recent & (u < 0.9)] = "NCT80"
    v = rng.random(nm)
    free = pd.isna(cat) & (status != "RENOUNCED")
    cat[free & (age >= 60) & recent & (v < 0.04)] = "NCC"
    free = pd.isna(cat) & (status != "RENOUNCED")
    kid = (age_at(birth, ctx.as_of) < 16) & (status == "ALIVE")
    cat[free & kid & (v >= 0.04) & (v < 0.047)] = "TMC"
    free = pd.isna(cat) & (status != "RENOUNCED") & recent
    cat[free & (age >= 1) & (v >= 0.1) & (v < 0.128)] = "KT"
    free = pd.isna(cat) & (status != "RENOUNCED") & recent
    cat[free & (age >= 1) & (v >= 0.2) & (v < 0.228)] = "HN"
    ren = status == "RENOUNCED"
    if not clean:
        # make sure some recently deceased people are (still) beneficiaries, for the death rules
        more = pick(rng, dead_m & (death > asd - 330) & pd.isna(cat) & (age >= 18), 0.3, minimum=4)
        cat[more] = "KT"
        ren_hn = pick(rng, ren, r["renounced_active"], minimum=1)
        cat[ren_hn] = "HN"
    n_ghost = n_dup = None
    if ctx.figures is not None:
        total = ctx.figures.social_beneficiaries
        n_ghost, n_dup = _ghost_count(ctx, total), _dup_count(ctx, total)
        _fit_poor_households(ctx, cat, age, status, recent, total - n_ghost - n_dup, more | ren_hn)
    pis = np.flatnonzero(pd.notna(cat))
    # enrolment day
    enrol80 = np.maximum(from_ymd(y + 80, np.ones(nm), np.ones(nm)), day(dt.date(2012, 1, 1)))
    enrol_any = asd - rng.integers(60, 4000, nm)
    enrol = np.where(cat == "NCT80", enrol80, enrol_any)[pis]
    enrol = np.minimum(enrol, asd - 30)
    gh = add_ghosts(ctx, _ghost_count(ctx, pis.size) if n_ghost is None else n_ghost, min_age=16, max_age=90)
    cat_g = rng.choice(["KT", "HN"], gh.size)
    pis_all = np.concatenate([pis, gh])
    cats = np.concatenate([cat[pis], cat_g])
    enrol = np.concatenate([enrol, asd - rng.integers(60, 3000, gh.size)])
    f = base_records(
        ctx,
        pis_all,
        enrol,
        "social",
        clean=clean,
        lost=0.0 if clean else r["social_lost_zeros"],
        unaccented=0.0 if clean else r["social_unaccented"],
        date_invalid=False,
    )
    f["category"] = cats
    f["dup_of"] = -1
    alive_m = np.zeros(len(ctx.people), bool)
    alive_m[:nm] = status == "ALIVE"
    d = duplicates(
        ctx,
        f,
        "social",
        alive_m[f["pi"].to_numpy()] & ~ctx.people["dead"].to_numpy()[f["pi"]].astype(bool),
        count=n_dup,
        lost=0.0,
        unaccented=0.0,
        date_invalid=False,
        allow_legacy=True,
    )
    d["category"] = f["category"].to_numpy()[d["dup_of"].to_numpy()] if len(d) else []
    f = pd.concat([f, d], ignore_index=True)
    n = len(f)
    fpi = f["pi"].to_numpy()
    P = ctx.people
    st = P["status"].to_numpy()[fpi]
    dth = P["death"].to_numpy()[fpi]
    m_dead = st == "DECEASED"
    # status and stop day (clean: stopped at death / renunciation)
    stop = np.full(n, 10**9)
    stop = np.where(m_dead, dth, stop)
    stop = np.where(st == "RENOUNCED", asd - rng.integers(30, 700, n), stop)
    other_stop = (st == "ALIVE") & (rng.random(n) < 0.03)
    stop = np.where(other_stop, asd - rng.integers(10, 700, n), stop)
    active = stop >= 10**9
    ren_active = (st == "RENOUNCED") & (not clean)
    active |= ren_active
    stop = np.where(ren_active, 10**9, stop)
    if not clean:
        da = pick(rng, m_dead, r["deceased_active"], minimum=1)
        active |= da
        stop = np.where(da, 10**9, stop)
        recent_death = m_dead & ~da & (dth > asd - 330)
        pad = pick(rng, recent_death, r["paid_after_death"], minimum=1)
        # at least one of them linked by its own ID, so that the rule is planted under ID-only linkage too
        by_id = recent_death & np.isin(f["link_class"].to_numpy(), ["personal_id", "legacy_id"])
        if not (pad & by_id).any():
            pad |= pick(rng, by_id, r["paid_after_death"], minimum=1)
        stop = np.where(pad, dth + rng.integers(35, 80, n), stop)
    f["active"] = active
    # payments: the last 12 monthly periods, paid on the 10th
    ay, am, _ = ymd(np.array([asd - 1]))
    last = (ay[0] * 12 + am[0] - 1) if ymd(np.array([asd - 1]))[2][0] >= 10 else (ay[0] * 12 + am[0] - 2)
    months = np.arange(last - 11, last + 1)
    pay_day = from_ymd(months // 12, months % 12 + 1, np.full(12, 10))
    rec = np.repeat(np.arange(n), 12)
    pd_ = np.tile(pay_day, n)
    per = np.tile(months, n)
    ok = (pd_ >= f["created"].to_numpy()[rec]) & (pd_ <= stop[rec])
    rec, pd_, per = rec[ok], pd_[ok], per[ok]
    f["max_paid"] = pd.Series(pd_).groupby(rec).max().reindex(np.arange(n)).fillna(-1).to_numpy().astype("int64")
    f = f.assign(order=ctx.rng.permutation(n))
    # rendered beneficiary
    method = np.where(rng.random(n) < 0.53, "ACCOUNT", "CASH").astype(object)
    bank = np.where(
        method == "ACCOUNT", pd.Series(rng.choice(["1", "2", "7", "8"], n)).to_numpy() + digits(rng, n, 11), None
    ).astype(object)
    f["bank_missing"] = False
    if not clean:
        bm = pick(rng, method == "ACCOUNT", r["field_missing"] / 2)
        bank[bm] = None
        f["bank_missing"] = bm
    if ctx.figures is not None:
        _fit_account_payments(ctx, f["active"].to_numpy(), method, bank, ctx.figures.social_account_payment_pct)
    f["method"] = method
    f["bank"] = bank
    f["amount"] = f["category"].map(AMOUNT).fillna(500_000).astype("int64").to_numpy()
    perm = np.argsort(f["order"].to_numpy(), kind="stable")
    inv = np.empty(n, dtype="int64")
    inv[perm] = np.arange(n)
    f["bid"] = inv + 1
    f["rid"] = f["bid"].astype(str)
    dob = f["dob"].to_numpy().astype("datetime64[D]")
    dob_col = pd.Series(dob).where(f["dob_state"].to_numpy() == "ok", None)
    gender = f["sex"].map({"M": 1, "F": 2}).astype("Int64")
    ben = (
        pd.DataFrame(
            {
                "BENEFICIARY_ID": f["bid"].astype("int64"),
                "FULL_NAME": f["name_text"],
                "DOB": dob_col,
                "GENDER": gender,
                "ID_NUMBER": f["id_text"],
                "CATEGORY": f["category"],
                "COMMUNE_CODE": f["cur"],
                "COMMUNE_CODE_OLD": f["old"],
                "PAY_METHOD": method,
                "BANK_ACCOUNT": bank,
                "MONTHLY_AMOUNT": f["amount"],
                "STATUS": np.where(active, "ACTIVE", "STOPPED"),
                "UPDATED_AT": pd.Series(f["updated"].to_numpy().astype("datetime64[s]")),
            }
        )
        .sort_values("BENEFICIARY_ID")
        .reset_index(drop=True)
    )
    pay = pd.DataFrame(
        {
            "BENEFICIARY_ID": f["bid"].to_numpy()[rec],
            "PERIOD": per,
            "AMOUNT": f["amount"].to_numpy()[rec],
            "METHOD": method[rec],
            "PAID_AT": pd_,
        }
    )
    pay = pay.sort_values(["BENEFICIARY_ID", "PERIOD"], kind="stable").reset_index(drop=True)
    pay.insert(0, "PAYMENT_ID", np.arange(1, len(pay) + 1))
    pay["PERIOD"] = (pay["PERIOD"] // 12).astype(str) + (pay["PERIOD"] % 12 + 1).astype(str).str.zfill(2)
    pay["PAID_AT"] = pay["PAID_AT"].to_numpy().astype("datetime64[D]")
    f["source"] = "social"
    return {"frame": f, "tables": {"BENEFICIARY": ben, "PAYMENT": pay}}


def _fit_poor_households(
    ctx: Ctx,
    cat: np.ndarray,
    age: np.ndarray,
    status: np.ndarray,
    recent: np.ndarray,
    n_base: int,
    planted: np.ndarray,
) -> None:
    """Add or remove poor-household (HN) beneficiaries until exactly n_base master people are beneficiaries."""
    diff = n_base - int(pd.notna(cat).sum())
    if diff > 0:
        pool = pd.isna(cat) & (status != "RENOUNCED") & recent & (age >= 1)
        cat[choose(ctx, pool, diff, "social_beneficiaries: people to enrol")] = "HN"
    elif diff < 0:
        pool = (cat == "HN") & ~planted
        cat[choose(ctx, pool, -diff, "social_beneficiaries: poor households to leave out")] = None


def _fit_account_payments(ctx: Ctx, active: np.ndarray, method: np.ndarray, bank: np.ndarray, pct: float) -> None:
    """Exactly round(pct% of ACTIVE) ACTIVE beneficiaries paid to an account with a bank account (in place)."""
    paid = active & (method == "ACCOUNT") & pd.notna(bank)
    diff = int(paid.sum()) - share(int(active.sum()), pct)
    if diff > 0:
        rows = choose(ctx, paid, diff, "social_account_payment: account payees to pay in cash")
        method[rows] = "CASH"
        bank[rows] = None
    elif diff < 0:
        rows = choose(ctx, active & (method == "CASH"), -diff, "social_account_payment: cash payees to move")
        method[rows] = "ACCOUNT"
        bank[rows] = pd.Series(ctx.rng.choice(["1", "2", "7", "8"], rows.size)).to_numpy() + digits(
            ctx.rng, rows.size, 11
        )


# ----------------------------------------------------------------------------------------------------- civil
def _reg_commune(ctx: Ctx, pi: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """The commune code of the registration in the list in force on the registration day."""
    p = ctx.people
    return np.where(reg < REFORM, p["old_commune"].to_numpy()[pi], p["commune"].to_numpy()[pi]).astype(object)


def _parent_names(ctx: Ctx, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Father's and mother's names for birth entries (the master's when known, else plausible ones)."""
    rng, p = ctx.rng, ctx.people
    n = len(pi)
    fa = p["father"].to_numpy()[pi].astype("int64")
    mo = p["mother"].to_numpy()[pi].astype("int64")
    names = p["name"].to_numpy()
    fam = np.array([x[0] for x in N.FAMILY_NAMES], dtype=object)
    own_fam = pd.Series(names[pi], dtype=object).str.split(" ").str[0].to_numpy()
    f_fake = (
        pd.Series(own_fam)
        + " Văn "
        + pd.Series(np.array(N.GIVEN_MALE, dtype=object)[rng.integers(0, len(N.GIVEN_MALE), n)])
    ).to_numpy()
    m_fake = (
        pd.Series(fam[rng.integers(0, 15, n)])
        + " Thị "
        + pd.Series(np.array(N.GIVEN_FEMALE, dtype=object)[rng.integers(0, len(N.GIVEN_FEMALE), n)])
    ).to_numpy()
    return (
        np.where(fa >= 0, names[np.maximum(fa, 0)], f_fake).astype(object),
        np.where(mo >= 0, names[np.maximum(mo, 0)], m_fake).astype(object),
    )


def civil(ctx: Ctx, clean: bool) -> dict:
    """ho_tich: births, deaths, marriages, and paper-only entries."""
    rng, r = ctx.rng, ctx.rates
    nm = ctx.n_master
    p = ctx.people
    asd = ctx.asd
    birth = p["birth"].to_numpy()[:nm]
    y, _, _ = ymd(birth)
    parts = []
    # births registered in the province
    b_pi = np.flatnonzero(p["born_here"].to_numpy()[:nm].astype(bool) & (y >= 1975))
    reg = np.minimum(birth[b_pi] + rng.integers(1, 60, b_pi.size), asd - 1)
    parts.append(("KHAI_SINH", b_pi, reg))
    # deaths (all real deaths, including those the master has not recorded)
    d_pi = np.flatnonzero(p["dead"].to_numpy()[:nm].astype(bool))
    dth = p["death"].to_numpy()[d_pi]
    parts.append(("KHAI_TU", d_pi, np.minimum(dth + rng.integers(1, 30, d_pi.size), asd - 1)))
    # marriages: the husband is the subject, the wife in ho_ten_2
    role = p["role"].to_numpy()[:nm]
    hh = p["hh"].to_numpy()[:nm]
    male = p["male"].to_numpy()[:nm].astype(bool)
    hs = pd.DataFrame({"i": np.arange(nm), "hh": hh, "role": role, "male": male})
    hs = hs[isin(role, ["HEAD", "SPOUSE"])]
    pairs = hs.pivot_table(index="hh", columns="role", values="i", aggfunc="first").dropna()
    h = pairs["HEAD"].to_numpy().astype("int64")
    s = pairs["SPOUSE"].to_numpy().astype("int64")
    husband = np.where(male[h], h, s)
    wife = np.where(male[h], s, h)
    ok = male[husband] & ~male[wife]
    husband, wife = husband[ok], wife[ok]
    mdate = np.maximum(birth[husband] + 365 * rng.integers(21, 29, husband.size), birth[wife] + 365 * 19)
    okm = (mdate >= day(dt.date(1980, 1, 1))) & (mdate < asd - 1)
    husband, wife, mdate = husband[okm], wife[okm], mdate[okm]
    parts.append(("KET_HON", husband, mdate))
    n_dup = None
    if ctx.figures is not None:  # exactly the figure's entries: births registered elsewhere are not here
        n_dup = _dup_count(ctx, ctx.figures.civil_entries)
        n_births = ctx.figures.civil_entries - n_dup - d_pi.size - husband.size
        keep = choose(ctx, np.arange(b_pi.size), n_births, "civil_entries: birth entries")
        parts[0] = ("KHAI_SINH", b_pi[keep], reg[keep])
    loai = np.concatenate([np.full(x[1].size, x[0], dtype=object) for x in parts])
    pis = np.concatenate([x[1] for x in parts])
    regs = np.concatenate([x[2] for x in parts]).astype("int64")
    pre16 = regs < day(dt.date(2016, 1, 1))
    em = np.where(pre16, 0.0 if clean else r["civil_pre2016_no_id"], 0.0)
    f = base_records(ctx, pis, regs, "civil", clean=clean, extra_missing=em, allow_legacy=loai != "KHAI_SINH")
    f["loai"] = loai
    f["reg"] = regs
    f["wife"] = -1
    f.loc[f["loai"] == "KET_HON", "wife"] = wife
    f["dup_of"] = -1
    d = duplicates(ctx, f, "civil", f["loai"].to_numpy() == "KHAI_SINH", count=n_dup, allow_legacy=False)
    if len(d):
        d["loai"] = "KHAI_SINH"
        d["reg"] = f["reg"].to_numpy()[d["dup_of"].to_numpy()] + rng.integers(200, 3000, len(d))
        d["reg"] = np.minimum(d["reg"], asd - 1)
        d["wife"] = -1
    f = pd.concat([f, d], ignore_index=True)
    # paper-only entries of people the master does not have
    k = 0 if clean or ctx.figures is not None else max(2, int(round(r["paper_only"] * len(f))))
    gh = add_ghosts(ctx, k, min_age=35, max_age=65)
    if k:
        g_reg = day(dt.date(1965, 1, 1)) + rng.integers(0, 365 * 30, k)
        g = base_records(ctx, gh, g_reg, "civil", clean=True)
        g["loai"] = "KHAI_SINH"
        g["reg"] = g_reg
        g["wife"] = -1
        g["dup_of"] = -1
        g["paper"] = True
        f["paper"] = False
        f = pd.concat([f, g], ignore_index=True)
    else:
        f["paper"] = False
    p = ctx.people
    n = len(f)
    fpi = f["pi"].to_numpy()
    reg = f["reg"].to_numpy().astype("int64")
    noi = _reg_commune(ctx, fpi, reg)
    # a commune not in the list in force, or no commune
    f["noi_kind"] = "ok"
    if not clean:
        from .records import unknown_codes

        not_cur, not_old = unknown_codes(ctx.geo)
        bad = pick(rng, ~f["paper"].to_numpy(), r["civil_commune_unknown"])
        noi = np.where(bad & (reg < REFORM), rng.choice(not_old, n), noi)
        noi = np.where(bad & (reg >= REFORM), rng.choice(not_cur, n), noi)
        miss = pick(rng, ~f["paper"].to_numpy() & ~bad, r["commune_missing"])
        noi = np.where(miss, None, noi)
        f.loc[bad, "noi_kind"] = "unknown"
        f.loc[miss, "noi_kind"] = "missing"
    f["noi"] = noi
    status = np.full(n, "DA_SO_HOA", dtype=object)
    if ctx.figures is not None:
        n_typed = n - share(n, ctx.figures.civil_digitised_pct)
        status[choose(ctx, ~f["paper"].to_numpy(), n_typed, "civil_digitised: typed-in entries")] = "DA_NHAP"
    elif not clean:
        status[pick(rng, ~f["paper"].to_numpy(), r["not_digitised"])] = "DA_NHAP"
    status[f["paper"].to_numpy()] = "CHUA_SO_HOA"
    f["status"] = status
    f = _finish(ctx, f)
    n = len(f)
    f["rid"] = (np.arange(n) + 1).astype(str)
    fpi = f["pi"].to_numpy()
    reg = f["reg"].to_numpy().astype("int64")
    loai = f["loai"].to_numpy()
    paper = f["paper"].to_numpy().astype(bool)
    ry, _, _ = ymd(reg)
    book = pd.Series(rng.integers(1, 6, n)).astype(str).str.zfill(2) + "/" + pd.Series(ry).astype(str)
    seq = pd.DataFrame({"noi": f["noi"].fillna("-"), "y": ry, "l": loai}).groupby(["noi", "y", "l"]).cumcount() + 1
    fa, mo = _parent_names(ctx, fpi)
    pu, pn, pt, ps = 0.02, 0.05, 0.4, 0.03
    fa = apply_quirks(pd.Series(fa), rng, p_upper=pu, p_nfd=pn, p_tone=pt, p_space=ps).to_numpy()
    mo = apply_quirks(pd.Series(mo), rng, p_upper=pu, p_nfd=pn, p_tone=pt, p_space=ps).to_numpy()
    ks = loai == "KHAI_SINH"
    kt = loai == "KHAI_TU"
    kh = loai == "KET_HON"
    wife = f["wife"].to_numpy().astype("int64")
    pn_all = p["name"].to_numpy()
    w_name = np.where(kh, pn_all[np.maximum(wife, 0)], None)
    w_name = apply_quirks(pd.Series(w_name), rng, p_upper=pu, p_nfd=pn, p_tone=pt, p_space=ps).to_numpy()
    w_id = np.where(
        kh & (reg >= day(dt.date(2016, 1, 1))) | (kh & (rng.random(n) < 0.2)),
        p["pid"].to_numpy()[np.maximum(wife, 0)],
        None,
    )
    dth = p["death"].to_numpy()[fpi]
    upd = np.maximum(reg + rng.integers(0, 400, n), day(dt.date(2019, 1, 1)) + rng.integers(0, 1500, n))
    upd = np.minimum(upd, asd - 1) * 86400 + rng.integers(7 * 3600, 18 * 3600, n)
    f["updated"] = upd
    ho = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "loai": loai,
            "quyen_so": book.to_numpy(),
            "so_dang_ky": seq.astype(str).to_numpy(),
            "ngay_dang_ky": iso(reg),
            "noi_dang_ky": f["noi"],
            "ho_ten": f["name_text"],
            "ngay_sinh": birth_text(ctx, f, "iso"),
            "gioi_tinh": f["sex"].map(SEX_VI),
            "so_dinh_danh": f["id_text"],
            "ngay_chet": np.where(kt, iso(np.maximum(dth, 0)), None),
            "ho_ten_cha": np.where(ks, fa, None),
            "ho_ten_me": np.where(ks, mo, None),
            "ho_ten_2": w_name,
            "so_dinh_danh_2": w_id,
            "trang_thai_so_hoa": f["status"],
            "cap_nhat_luc": ts_text(upd),
        }
    )
    for col in (
        "ho_ten",
        "ngay_sinh",
        "gioi_tinh",
        "so_dinh_danh",
        "ngay_chet",
        "ho_ten_cha",
        "ho_ten_me",
        "ho_ten_2",
        "so_dinh_danh_2",
    ):
        ho.loc[paper, col] = None
    # paper entries: nothing but book, number, date, place
    f.loc[paper, "name_text"] = None
    f.loc[paper, "id_kind"] = "missing"
    f.loc[paper, "id12"] = None
    f.loc[paper, "sex"] = None
    f.loc[paper, "dob_state"] = "null"
    f.loc[paper, "attr"] = "paper"
    f["source"] = "civil"
    return {"frame": f, "tables": {"ho_tich": ho}}


# -------------------------------------------------------------------------------------------------- children
def children(ctx: Ctx, clean: bool) -> dict:
    """tre_em: every living under-16 (minus planted omissions), some 16-17 year olds, deceased children."""
    rng, r = ctx.rng, ctx.rates
    nm = ctx.n_master
    p = ctx.people
    asd = ctx.asd
    birth = p["birth"].to_numpy()[:nm]
    full = p["prec"].to_numpy()[:nm] == "D"
    age = age_at(birth, ctx.as_of)
    st = p["status"].to_numpy()[:nm]
    alive = st == "ALIVE"
    u16 = full & (age < 16)
    n_ghost = n_dup = None
    if ctx.figures is None:
        omit = pick(rng, u16 & alive, 0.0 if clean else r["child_not_in_registry"])
    else:  # exactly the figure's records: the registry leaves out as many living under-16s as that takes
        total = ctx.figures.children_records
        n_ghost, n_dup = _ghost_count(ctx, total), _dup_count(ctx, total)
        kid_dead = p["kid_dead"].to_numpy()[:nm].astype(bool) & (not clean)
        teen = full & (age >= 16) & (age < 18) & alive
        n_teen = int(round(0.3 * teen.sum()))
        n_omit = int((u16 & alive).sum()) - (total - n_ghost - n_dup - n_teen - int(kid_dead.sum()))
        if n_omit < (2 if r["child_not_in_registry"] > 0 else 0):
            raise CalibrationError(f"calibration: children_records {total:,} exceeds the living under-16s")
        omit = _mask(nm, choose(ctx, u16 & alive, n_omit, "children_records: children to leave out"))
    teen_draw = rng.random(nm) < 0.3
    if ctx.figures is not None:
        teen_draw = _mask(nm, choose(ctx, teen, n_teen, "children_records: 16-17 year olds"))
    sel = (u16 & alive & ~omit) | (full & (age >= 16) & (age < 18) & alive & teen_draw)
    sel |= p["kid_dead"].to_numpy()[:nm].astype(bool) & ~np.zeros(nm, bool) & (not clean)
    pis = np.flatnonzero(sel)
    gh = add_ghosts(ctx, _ghost_count(ctx, pis.size) if n_ghost is None else n_ghost, min_age=0, max_age=15)
    pis = np.concatenate([pis, gh])
    b = ctx.people["birth"].to_numpy()[pis]
    created = np.maximum(b, day(dt.date(2018, 1, 1))) + rng.integers(0, 90, pis.size)
    f = base_records(
        ctx,
        pis,
        created,
        "children",
        clean=clean,
        allow_legacy=False,
        extra_missing=0.0 if clean else r["children_no_id"],
    )
    f["dup_of"] = -1
    P = ctx.people
    alive_all = (P["status"].to_numpy() == "ALIVE") & ~P["dead"].to_numpy().astype(bool)
    d = duplicates(ctx, f, "children", alive_all[f["pi"].to_numpy()], count=n_dup, allow_legacy=False)
    f = pd.concat([f, d], ignore_index=True)
    f = _finish(ctx, f)
    n = len(f)
    f["rid"] = "TE" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(8)
    fpi = f["pi"].to_numpy()
    # review dates
    rev = asd - rng.integers(0, 366, n)
    f["review_kind"] = "ok"
    if not clean:
        stale = pick(rng, np.ones(n, bool), r["stale"])
        never = stale & (rng.random(n) < 0.4)
        rev = np.where(stale, asd - rng.integers(366, 1200, n), rev)
        f.loc[stale, "review_kind"] = "stale"
        f.loc[never, "review_kind"] = "never"
    rev = np.maximum(rev, f["created"].to_numpy())
    f["review"] = np.where(f["review_kind"] == "never", -1, rev)
    if ctx.figures is not None and not clean:
        calibrate_reconciled(ctx, f, "children", ctx.figures.children_reconciled)
        calibrate_id_code(ctx, f, ctx.figures.children_with_id_code)
    # two entry tools
    fmt = np.where(rng.random(n) < 0.5, "dmy", "iso")
    mo = P["mother"].to_numpy()[fpi].astype("int64")
    has_mo = mo >= 0
    mo_name = np.where(has_mo, P["name"].to_numpy()[np.maximum(mo, 0)], None)
    mo_name = apply_quirks(pd.Series(mo_name), rng, p_upper=0.05, p_nfd=0.15, p_tone=0.4, p_space=0.05).to_numpy()
    mo_id = np.where(has_mo & (rng.random(n) < 0.9), P["pid"].to_numpy()[np.maximum(mo, 0)], None)
    upd = f["updated"].to_numpy()
    upd = np.maximum(upd, np.where(f["review"].to_numpy() >= 0, f["review"].to_numpy() * 86400 + 3600 * 9, 0))
    upd = np.minimum(upd, (asd - 1) * 86400 + 3600 * 17)
    f["updated"] = upd
    te = pd.DataFrame(
        {
            "ma_tre": f["rid"],
            "ho_va_ten": f["name_text"],
            "ngay_sinh": birth_text(ctx, f, fmt),
            "gioi_tinh": f["sex"].map(SEX_VI),
            "ma_dinh_danh": f["id_text"],
            "ho_ten_me": mo_name,
            "cccd_me": mo_id,
            "ma_xa": f["cur"],
            "ma_xa_cu": f["old"],
            "hoan_canh": np.where(rng.random(n) < 0.03, "DAC_BIET", "BINH_THUONG"),
            "ngay_ra_soat": np.where(f["review"].to_numpy() >= 0, iso(np.maximum(f["review"].to_numpy(), 0)), None),
            "cap_nhat": ts_text(upd),
        }
    )
    f["source"] = "children"
    return {"frame": f, "tables": {"tre_em": te}}
