"""An independent reading of the simulated databases: OUTPUTS.md's rules under ID-only linkage.

It reads only the written tables and the seeds (as a pipeline would), so comparing it with the simulator's
`rule_codes_deterministic` catches any disagreement between what was rendered and what the truth says.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
_PAIRS = {}
for a, b in zip("òóỏõọ", "àáảãạ", strict=True):
    _PAIRS["o" + b] = a + "a"
for a, b in zip("òóỏõọ", "èéẻẽẹ", strict=True):
    _PAIRS["o" + b] = a + "e"
for a, b in zip("ùúủũụ", "ỳýỷỹỵ", strict=True):
    _PAIRS["u" + b] = a + "y"
_RE = re.compile("(" + "|".join(_PAIRS) + r")(?=\s|$)")


def norm_name(s):
    if s is None or (isinstance(s, float) and np.isnan(s)):
        return None
    s = unicodedata.normalize("NFC", s).casefold()
    s = " ".join(s.split())
    # one convention: old style (hòa); "quý" keeps its tone on y
    s = _RE.sub(lambda m: _PAIRS[m.group(1)] if not _is_qu(s, m.start()) else m.group(1), s)
    return s


def _is_qu(s, i):
    return i > 0 and s[i - 1] == "q"


def unaccent(s):
    d = unicodedata.normalize("NFD", s).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in d if not unicodedata.combining(c))


def _ua(s):
    return unaccent(s) if isinstance(s, str) else None


def read(url, table):
    eng = sa.create_engine(url)
    with eng.connect() as c:
        df = pd.read_sql_table(table, c)
    eng.dispose()
    return df


def parse_date(s: pd.Series, as_of: dt.date):
    """(parsed dates or NaT, invalid mask) for dd/mm/yyyy or yyyy-mm-dd text."""
    s = s.astype(object)
    dmy = pd.to_datetime(s.where(s.str.contains("/", na=False)), format="%d/%m/%Y", errors="coerce")
    isoo = pd.to_datetime(s.where(s.str.contains("-", na=False)), format="%Y-%m-%d", errors="coerce")
    d = dmy.fillna(isoo)
    invalid = s.notna() & (d.isna() | (d.dt.date > as_of))
    return d.where(~invalid), invalid


def check(urls: dict[str, str], as_of: dt.date) -> pd.DataFrame:
    """source, source_record_id, rules (sorted list) for every record, citizen and household."""
    cur = pd.read_csv(SEEDS / "admin_communes.csv", dtype=str)
    leg = pd.read_csv(SEEDS / "admin_communes_legacy.csv", dtype=str)
    cw = pd.read_csv(SEEDS / "commune_crosswalk.csv", dtype=str)
    pref = set(pd.read_csv(SEEDS / "id_province_codes.csv", dtype=str)["id_prefix"])
    cur_set, leg_set = set(cur["commune_code"]), set(leg["commune_code"])
    succ = cw[cw["is_default"] == "true"].set_index("old_commune_code")["new_commune_code"]
    cit = read(urls["population"], "citizen")
    hh = read(urls["population"], "household")
    pids = set(cit["personal_id"])
    l9 = cit[cit["legacy_id9"].fillna("").str.fullmatch(r"\d{9}")].set_index("legacy_id9")["personal_id"]
    m = cit.set_index("personal_id")
    out = []

    def conflict(id12: pd.Series, dob: pd.Series, sex: pd.Series) -> pd.Series:
        z = id12.fillna("000000000000")
        d4 = z.str[3].astype(int)
        bad = ~z.str[:3].isin(pref)
        bad |= sex.notna() & ((d4 % 2 == 0) != (sex == "M"))
        y = dob.dt.year
        bad |= dob.notna() & ((d4 // 2 != y // 100 - 19) | (z.str[4:6].astype(int) != y % 100))
        return id12.notna() & bad

    def sector(src, df, key, name, dob_raw, sex, idcol, cur_c=None, old_c=None, civil=None):
        r = {}
        raw = df[idcol].astype(object)
        c = raw.str.replace(r"[ .]", "", regex=True)
        r["ID_MISSING"] = c.isna() | (c == "")
        dig = c.str.fullmatch(r"\d+", na=False)
        ln = c.str.len()
        pad = c.where(dig & ln.isin([10, 11])).str.zfill(12)
        link = pd.Series([None] * len(df), dtype=object, index=df.index)
        is12 = dig & (ln == 12)
        link[is12 & c.isin(pids)] = c[is12 & c.isin(pids)]
        rep = pad.isin(pids)
        link[rep] = pad[rep]
        is9 = dig & (ln == 9)
        k9 = is9 & c.isin(l9.index)
        link[k9] = c[k9].map(l9)
        r["LEGACY_ID_ONLY"] = k9
        r["ID_UNKNOWN"] = (is12 & ~c.isin(pids)) | (is9 & ~k9)
        r["ID_MALFORMED"] = c.notna() & (c != "") & ~is12 & ~is9
        dob, inv = dob_raw
        id12 = c.where(is12).fillna(pad.where(rep))
        id12 = id12.where(id12.notna(), None)
        r["ID_CONFLICT"] = conflict(id12, dob, sex)
        r["DATE_INVALID"] = inv.copy()
        L = link.notna()
        r["NOT_LINKED"] = ~L
        mm = m.reindex(link.fillna("-"))
        mm.index = df.index
        nn = name.map(norm_name)
        mn = mm["full_name"].map(norm_name)
        ascii_ = name.notna() & (name.map(lambda s: unaccent(s) == s if isinstance(s, str) else False))
        differ = L & nn.notna() & (nn != mn)
        ua = differ & ascii_ & (nn.map(_ua) == mn.map(_ua))
        r["NAME_UNACCENTED"] = ua
        r["NAME_MISMATCH"] = differ & ~ua
        mb = mm["birth_date"]
        cut = dob.dt.strftime("%Y-%m-%d")
        cut = np.where(mb.str.len() == 4, cut.str[:4], np.where(mb.str.len() == 7, cut.str[:7], cut))
        r["BIRTH_DATE_MISMATCH"] = L & dob.notna() & mb.notna() & (pd.Series(cut, index=df.index) != mb)
        r["SEX_MISMATCH"] = L & sex.notna() & mm["sex"].notna() & (sex != mm["sex"])
        grp = link if civil is None else link.where(df["loai"] == "KHAI_SINH")
        cnt = grp.map(grp.value_counts())
        r["DUPLICATE"] = grp.notna() & (cnt >= 2)
        fm = name.isna() | dob_raw[0].isna() & ~inv | sex.isna()
        if civil is None:
            cc, oc = df[cur_c], df[old_c]
            cok = cc.notna() & cc.isin(cur_set)
            ook = cc.isna() & oc.notna() & oc.isin(leg_set)
            res = cc.where(cok).fillna(oc.where(ook).map(succ))
            r["COMMUNE_UNKNOWN"] = (cc.notna() & ~cok) | (cc.isna() & oc.notna() & ~ook)
            r["COMMUNE_OUTDATED"] = ook
            fm |= cc.isna() & oc.isna()
            r["RESIDENCE_MISMATCH"] = L & res.notna() & mm["commune_code"].notna() & (res != mm["commune_code"])
        else:
            noi = df["noi_dang_ky"]
            pre = df["ngay_dang_ky"] < "2025-07-01"
            ok = noi.notna() & np.where(pre, noi.isin(leg_set), noi.isin(cur_set))
            res = noi.where(ok & ~pre).fillna(noi.where(ok & pre).map(succ))
            r["COMMUNE_UNKNOWN"] = noi.notna() & ~ok
            fm |= noi.isna()
            r["NOT_DIGITISED"] = df["trang_thai_so_hoa"] != "DA_SO_HOA"
        r["FIELD_MISSING"] = fm
        return r, link, mm, res

    def emit(src, keys, r, res):
        codes = sorted(r)
        mat = np.column_stack([np.asarray(r[k], dtype=bool) for k in codes])
        arr = np.array(codes, dtype=object)
        out.append(
            pd.DataFrame(
                {
                    "source": src,
                    "source_record_id": keys.astype(str).to_numpy(),
                    "rules": [list(arr[x]) for x in mat],
                    "commune_code": res.to_numpy(),
                }
            )
        )

    sexmap = {"Nam": "M", "Nữ": "F", unicodedata.normalize("NFD", "Nữ"): "F"}
    # vaccination
    v = read(urls["vaccination"], "doi_tuong")
    mt = read(urls["vaccination"], "mui_tiem")
    dob = parse_date(v["ngay_sinh"], as_of)
    r, link, mm, res = sector(
        "vaccination",
        v,
        "ma_doi_tuong",
        v["ho_ten"],
        dob,
        v["gioi_tinh"].map(sexmap),
        "so_giay_to",
        "ma_xa",
        "ma_xa_cu",
    )
    dd, dinv = parse_date(mt["ngay_tiem"], as_of)
    mind = dd.groupby(mt["ma_doi_tuong"]).min()
    anyinv = dinv.groupby(mt["ma_doi_tuong"]).any()
    before = v["ma_doi_tuong"].map(mind) < dob[0]
    r["DATE_INVALID"] = r["DATE_INVALID"] | before.fillna(False) | v["ma_doi_tuong"].map(anyinv).fillna(False)
    emit("vaccination", v["ma_doi_tuong"], r, res)
    # social
    s = read(urls["social"], "BENEFICIARY")
    pay = read(urls["social"], "PAYMENT")
    sdob = pd.to_datetime(s["DOB"])
    r, link, mm, res = sector(
        "social",
        s,
        "BENEFICIARY_ID",
        s["FULL_NAME"],
        (sdob, pd.Series(False, index=s.index)),
        s["GENDER"].map({1: "M", 2: "F"}),
        "ID_NUMBER",
        "COMMUNE_CODE",
        "COMMUNE_CODE_OLD",
    )
    r["FIELD_MISSING"] = r["FIELD_MISSING"] | ((s["PAY_METHOD"] == "ACCOUNT") & s["BANK_ACCOUNT"].isna())
    gone = mm["status"].isin(["DECEASED", "RENOUNCED"])
    r["DECEASED_ACTIVE"] = link.notna() & gone & (s["STATUS"] == "ACTIVE")
    lastpay = pd.to_datetime(pay["PAID_AT"]).groupby(pay["BENEFICIARY_ID"]).max()
    r["PAID_AFTER_DEATH"] = (
        link.notna() & mm["death_date"].notna() & (s["BENEFICIARY_ID"].map(lastpay) > pd.to_datetime(mm["death_date"]))
    )
    emit("social", s["BENEFICIARY_ID"], r, res)
    # civil
    c = read(urls["civil"], "ho_tich")
    r, link, mm, res = sector(
        "civil",
        c,
        "id",
        c["ho_ten"],
        parse_date(c["ngay_sinh"], as_of),
        c["gioi_tinh"].map(sexmap),
        "so_dinh_danh",
        civil=True,
    )
    deaths = set(link[(c["loai"] == "KHAI_TU") & link.notna()])
    emit("civil", c["id"], r, res)
    # children
    t = read(urls["children"], "tre_em")
    r, link, mm, res = sector(
        "children",
        t,
        "ma_tre",
        t["ho_va_ten"],
        parse_date(t["ngay_sinh"], as_of),
        t["gioi_tinh"].map(sexmap),
        "ma_dinh_danh",
        "ma_xa",
        "ma_xa_cu",
    )
    r["DECEASED_ACTIVE"] = link.notna() & mm["status"].isin(["DECEASED", "RENOUNCED"])
    rv = pd.to_datetime(t["ngay_ra_soat"])
    r["STALE"] = rv.isna() | ((pd.Timestamp(as_of) - rv).dt.days > 365)
    kids = set(link.dropna())
    emit("children", t["ma_tre"], r, res)
    # population
    b = cit["birth_date"]
    full = pd.to_datetime(b.where(b.str.len() == 10), format="%Y-%m-%d", errors="coerce")
    age = (
        as_of.year
        - full.dt.year
        - ((full.dt.month > as_of.month) | ((full.dt.month == as_of.month) & (full.dt.day > as_of.day))).astype(int)
    )
    u16 = full.notna() & (age < 16)
    alive = cit["status"] == "ALIVE"
    yr = pd.to_datetime(b.str[:4], format="%Y", errors="coerce")
    r = {
        "FIELD_MISSING": cit[["sex", "ethnicity", "birth_date", "commune_code"]].isna().any(axis=1),
        "ID_CONFLICT": conflict(cit["personal_id"], yr, cit["sex"]),
        "LEGACY_ID_MALFORMED": cit["legacy_id9"].notna() & ~cit["legacy_id9"].fillna("").str.fullmatch(r"\d{9}"),
        "CHILD_NO_RESIDENCE": alive & u16 & cit["commune_code"].isna(),
        "DEATH_NOT_RECORDED": alive & cit["personal_id"].isin(deaths),
        "CHILD_NOT_IN_REGISTRY": alive & u16 & ~cit["personal_id"].isin(kids),
    }
    emit("population", cit["personal_id"], r, cit["commune_code"])
    heads = (cit["relation_to_head"] == "HEAD").groupby(cit["household_id"]).sum().reindex(hh["household_id"]).fillna(0)
    r = {"HOUSEHOLD_NO_HEAD": (heads == 0).to_numpy(), "HOUSEHOLD_MULTI_HEAD": (heads > 1).to_numpy()}
    emit("population", hh["household_id"], r, hh["commune_code"])
    return pd.concat(out, ignore_index=True)
