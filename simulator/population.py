"""The simulated population: households, people and the master's view of them (with planted defects)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import names as N
from .config import REFORM_DATE, Geo
from .text import has_diacritics, map_unique
from .util import age_at, day, digits, in_set, isin, iso, pick, weighted

ROLE_ORDER = {"HEAD": 0, "SPOUSE": 1, "CHILD": 2, "PARENT": 3, "GRANDCHILD": 4}


def _households(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Members of households (hh, role, age, male, links inside the household), exactly n people."""
    h0 = int(n / 3.2) + 20
    head_age = np.clip(rng.normal(48, 14, h0), 20, 92).astype("int64")
    has_sp = rng.random(h0) < np.where(head_age < 70, 0.86, 0.55)
    head_m = np.where(has_sp, rng.random(h0) < 0.82, rng.random(h0) < 0.4)
    sp_age = np.clip(head_age + np.where(head_m, -2, 2) + rng.normal(0, 3, h0), 18, 98).astype("int64")
    mom_age = np.where(has_sp & head_m, sp_age, head_age)
    nk = rng.choice(5, size=h0, p=[0.10, 0.22, 0.42, 0.19, 0.07])
    k_hh = np.repeat(np.arange(h0), nk)
    k_age = mom_age[k_hh] - rng.integers(19, 39, k_hh.size)
    keep = (k_age >= 0) & ((k_age < 23) | (rng.random(k_hh.size) < 0.25))
    k_hh, k_age = k_hh[keep], k_age[keep]
    has_par = rng.random(h0) < np.where(head_age < 60, 0.14, 0.03)
    par_age = head_age + rng.integers(22, 35, h0)
    has_par &= par_age <= 100
    has_gc = (head_age >= 50) & (rng.random(h0) < 0.22)
    ngc = np.where(has_gc, rng.integers(1, 3, h0), 0)
    g_hh = np.repeat(np.arange(h0), ngc)
    g_age = rng.integers(0, 16, g_hh.size) % np.maximum(head_age[g_hh] - 40, 1)
    parts = [
        pd.DataFrame({"hh": np.arange(h0), "role": "HEAD", "age": head_age, "male": head_m}),
        pd.DataFrame({"hh": np.flatnonzero(has_sp), "role": "SPOUSE", "age": sp_age[has_sp], "male": ~head_m[has_sp]}),
        pd.DataFrame({"hh": k_hh, "role": "CHILD", "age": k_age, "male": rng.random(k_hh.size) < 0.528}),
        pd.DataFrame(
            {
                "hh": np.flatnonzero(has_par),
                "role": "PARENT",
                "age": par_age[has_par],
                "male": rng.random(int(has_par.sum())) < 0.4,
            }
        ),
        pd.DataFrame({"hh": g_hh, "role": "GRANDCHILD", "age": g_age, "male": rng.random(g_hh.size) < 0.528}),
    ]
    m = pd.concat(parts, ignore_index=True)
    m["ro"] = m["role"].map(ROLE_ORDER)
    m = m.sort_values(["hh", "ro"], kind="stable").reset_index(drop=True)
    size = np.bincount(m["hh"].to_numpy(), minlength=h0)
    cum = np.cumsum(size)
    keep_hh = cum <= n
    m = m[keep_hh[m["hh"].to_numpy()]].reset_index(drop=True)
    rest = n - len(m)
    if rest > 0:
        extra = pd.DataFrame(
            {
                "hh": h0 + np.arange(rest),
                "role": "HEAD",
                "age": rng.integers(20, 86, rest),
                "male": rng.random(rest) < 0.5,
                "ro": 0,
            }
        )
        m = pd.concat([m, extra], ignore_index=True)
    # renumber households in order of appearance
    m["hh"] = pd.factorize(m["hh"])[0]
    return m.drop(columns="ro")


def make_population(
    rng: np.random.Generator,
    n: int,
    geo: Geo,
    as_of: dt.date,
    rates: dict[str, float],
    home_communes: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """People (semantic frame, one row per master citizen) and households.

    `home_communes`: households live only in the province's first N current communes (a small scenario with
    a whole province's people per commune); records can still name any commune of the province (moves).
    """
    asd = day(as_of)
    m = _households(rng, n)
    hh = m["hh"].to_numpy()
    nh = int(hh.max()) + 1
    role = m["role"].to_numpy()
    male = m["male"].to_numpy()
    age = m["age"].to_numpy().astype("int64")
    idx = np.arange(n)

    # household geography: a pre-2025 commune and its default successor
    homes = np.arange(len(geo.old))
    if home_communes:
        first = geo.current["commune_code"].to_numpy()[:home_communes]
        homes = np.flatnonzero(isin(geo.old["new_commune_code"].to_numpy(), first))
    h_old_i = homes[rng.integers(0, len(homes), nh)]
    h_old = geo.old["commune_code"].to_numpy()[h_old_i]
    h_cur = geo.old["new_commune_code"].to_numpy()[h_old_i]
    h_oldprov = geo.old["province_code"].to_numpy()[h_old_i]

    # birth dates
    birth = asd - age * 365 - (age // 4) - rng.integers(1, 366, n)
    # exact boundary cases: born exactly 16 years before as_of and one day later
    y16 = np.flatnonzero((age == 15) | (age == 16))
    if y16.size >= 4 and n >= 1000:
        b16 = day(as_of.replace(year=as_of.year - 16)) if not (as_of.month == 2 and as_of.day == 29) else None
        if b16 is not None:
            sel = rng.choice(y16, size=4, replace=False)
            birth[sel[:2]] = b16
            birth[sel[2:]] = b16 + 1
    years = pd.Series(birth.astype("datetime64[D]")).dt.year.to_numpy()
    prec = np.full(n, "D", dtype=object)
    old = years < 1950
    r = rng.random(n)
    prec[old & (r < 0.35)] = "Y"
    prec[old & (r >= 0.35) & (r < 0.45)] = "M"
    bstr = iso(birth).astype(object)
    bstr[prec == "Y"] = pd.Series(bstr[prec == "Y"], dtype=object).str[:4].to_numpy()
    bstr[prec == "M"] = pd.Series(bstr[prec == "M"], dtype=object).str[:7].to_numpy()

    # names: heads and spouses draw a family name, children take their father's (else mother's)
    fam = weighted(rng, N.FAMILY_NAMES, n)
    head_row = np.full(nh, -1)
    head_row[hh[role == "HEAD"]] = idx[role == "HEAD"]
    sp_row = np.full(nh, -1)
    sp_row[hh[role == "SPOUSE"]] = idx[role == "SPOUSE"]
    hm = male[head_row]
    father = np.where(hm, head_row, sp_row)
    mother = np.where(hm, sp_row, head_row)
    is_kid = role == "CHILD"
    fa = np.where(is_kid, father[hh], -1)
    mo = np.where(is_kid, mother[hh], -1)
    par = role == "PARENT"
    head_of = head_row[hh]
    # a parent who is male gives the head his family name
    par_m = par & male
    fam[head_of[par_m]] = fam[par_m]
    fa_h = np.full(n, -1)
    mo_h = np.full(n, -1)
    fa_h[head_of[par & male]] = idx[par & male]
    mo_h[head_of[par & ~male]] = idx[par & ~male]
    fa = np.where(role == "HEAD", fa_h, fa)
    mo = np.where(role == "HEAD", mo_h, mo)
    fam = np.where(fa >= 0, fam[np.maximum(fa, 0)], np.where(mo >= 0, fam[np.maximum(mo, 0)], fam))
    gc = role == "GRANDCHILD"
    fam = np.where(gc & hm[hh], fam[head_of], fam)
    mid_m = weighted(rng, N.MIDDLE_MALE, n)
    mid_f = weighted(rng, N.MIDDLE_FEMALE, n)
    giv = np.where(male, weighted(rng, N.given_names(True), n), weighted(rng, N.given_names(False), n))
    mid = np.where(male, mid_m, mid_f)

    # ethnicity mostly shared by the household
    eth_h = weighted(rng, N.ETHNICITIES, nh)
    eth = np.where(rng.random(n) < 0.9, eth_h[hh], weighted(rng, N.ETHNICITIES, n))

    # personal IDs: prefix = birth-registration province
    born_here = rng.random(n) < 0.86
    other = rng.choice(geo.id_prefixes, size=n)
    prefix = np.where(born_here, pd.Series(h_oldprov[hh]).str.zfill(3).to_numpy(), other)
    cur3 = geo.province_code.zfill(3)
    new_prefix = cur3 if cur3 in set(geo.id_prefixes) else geo.home_prefixes[0]
    prefix = np.where(born_here & (birth >= day(REFORM_DATE)), new_prefix, prefix)
    prefix = np.where(isin(prefix, geo.id_prefixes), prefix, geo.home_prefixes[0])
    century = years // 100 - 19
    d4 = (2 * century + (~male).astype("int64")).astype(str)
    yy = pd.Series(years % 100).astype(str).str.zfill(2).to_numpy()
    stem = pd.Series(prefix).str.cat([pd.Series(d4), pd.Series(yy)]).to_numpy()
    pid = _unique_ids(rng, stem)

    # deaths (skewed to recent years), renounced
    p_dead = np.select([age >= 85, age >= 75, age >= 65, age >= 50, age >= 30], [0.35, 0.18, 0.07, 0.025, 0.006], 0.0)
    dead = rng.random(n) < p_dead
    back = np.minimum(rng.exponential(700, n).astype("int64") + 1, 2900)
    death = asd - back
    death = np.maximum(death, birth + 365 * 20)
    dead &= death < asd
    kid16 = (age_at(birth, as_of) < 16) & ~dead
    kid_dead = pick(rng, kid16 & (birth < asd - 60), rates["child_deceased_active"])
    death = np.where(kid_dead, np.maximum(birth + 30, asd - rng.integers(1, 300, n)), death)
    dead |= kid_dead
    renounced = pick(rng, ~dead & (age >= 20) & (age <= 60), 0.003, minimum=3)
    status = np.where(dead, "DECEASED", np.where(renounced, "RENOUNCED", "ALIVE"))
    # a death registered in the civil registry but not in the master
    dnr = pick(rng, dead & ~kid_dead, rates["death_not_recorded"])
    status = np.where(dnr, "ALIVE", status)

    people = pd.DataFrame(
        {
            "pid": pid,
            "hh": hh,
            "role": role,
            "male": male,
            "birth": birth,
            "prec": prec,
            "bstr": bstr,
            "fam": fam,
            "mid": mid,
            "giv": giv,
            "eth": eth,
            "father": fa,
            "mother": mo,
            "old_commune": h_old[hh],
            "commune": h_cur[hh],
            "born_here": born_here,
            "dead": dead,
            "death": np.where(dead, death, -1),
            "status": status,
            "kid_dead": kid_dead,
            "dnr": dnr,
            "renounced": renounced,
        }
    )
    _names(people)
    _legacy(rng, people, as_of)
    _plant_population(rng, people, geo, as_of, rates)

    # master columns
    people["m_sex"] = np.where(people["male"], "M", "F").astype(object)
    people["m_eth"] = np.array([N.ETHNICITIES[i][0] for i in range(len(N.ETHNICITIES))], dtype=object)[eth]
    people["m_commune"] = people["commune"].astype(object)
    people["m_bstr"] = people["bstr"].astype(object)
    for col, flag in (
        ("m_sex", "miss_sex"),
        ("m_eth", "miss_eth"),
        ("m_bstr", "miss_birth"),
        ("m_commune", "miss_commune"),
    ):
        people.loc[people[flag], col] = None
    people["relation"] = people["role"].astype(object)
    people.loc[people["no_head"], "relation"] = "OTHER"
    people.loc[people["extra_head"], "relation"] = "HEAD"
    people["m_death"] = np.where(people["status"] == "DECEASED", iso(people["death"].clip(lower=0)), None)
    people["updated"] = asd * 86400 - rng.integers(86400, 86400 * 900, n)

    households = pd.DataFrame({"hh": np.arange(nh), "commune": h_cur, "old_commune": h_old})
    households["household_id"] = "HO" + geo.province_code + pd.Series(np.arange(nh) + 1).astype(str).str.zfill(8)
    unit = np.array(N.ADDRESS_UNITS, dtype=object)[rng.integers(0, len(N.ADDRESS_UNITS), nh)]
    cname = pd.Series(h_cur).map(geo.names)
    households["address_line"] = (
        "Số "
        + pd.Series(rng.integers(1, 300, nh)).astype(str)
        + ", "
        + unit
        + " "
        + pd.Series(rng.integers(1, 25, nh)).astype(str)
        + ", "
        + cname
    )
    households["updated"] = asd * 86400 - rng.integers(86400, 86400 * 1500, nh)
    people["household_id"] = households["household_id"].to_numpy()[people["hh"].to_numpy()]
    return people, households


def _unique_ids(rng: np.random.Generator, stem: np.ndarray, taken: set[str] | None = None) -> np.ndarray:
    """stem (6 chars) + 6 random digits, unique and not in `taken`."""
    out = pd.Series(pd.Series(stem, dtype=object) + digits(rng, len(stem), 6), dtype=object)
    taken = taken or set()
    while True:
        bad = out.duplicated(keep="first").to_numpy() | in_set(out.to_numpy(), taken)
        if not bad.any():
            return out.to_numpy()
        out[bad] = pd.Series(stem[bad], dtype=object).to_numpy() + digits(rng, int(bad.sum()), 6)


def _names(p: pd.DataFrame) -> None:
    """Full names from the component indices, and whether each carries a diacritic."""
    fam = np.array([x[0] for x in N.FAMILY_NAMES], dtype=object)
    mm = np.array([x[0] for x in N.MIDDLE_MALE], dtype=object)
    mf = np.array([x[0] for x in N.MIDDLE_FEMALE], dtype=object)
    gm = np.array(N.GIVEN_MALE, dtype=object)
    gf = np.array(N.GIVEN_FEMALE, dtype=object)
    male = p["male"].to_numpy()
    mid = np.where(male, mm[np.minimum(p["mid"], len(mm) - 1)], mf[np.minimum(p["mid"], len(mf) - 1)])
    giv = np.where(male, gm[np.minimum(p["giv"], len(gm) - 1)], gf[np.minimum(p["giv"], len(gf) - 1)])
    p["given"] = giv
    p["name"] = pd.Series(fam[p["fam"]]) + " " + pd.Series(mid) + " " + pd.Series(giv)
    p["name_diac"] = map_unique(p["name"], has_diacritics).astype(bool).to_numpy()


def _legacy(rng: np.random.Generator, p: pd.DataFrame, as_of: dt.date) -> None:
    """Old 9-digit CMND numbers for most people born before ~2000."""
    n = len(p)
    years = pd.Series(p["birth"].to_numpy().astype("datetime64[D]")).dt.year.to_numpy()
    has = (years <= 2000) & (rng.random(n) < 0.85)
    first = np.where(p["born_here"], "12", rng.choice(["13", "14", "16", "17", "18", "20", "21", "23"], n))
    v = pd.Series(first, dtype=object) + digits(rng, n, 7)
    while True:
        dup = v.duplicated().to_numpy()
        if not dup.any():
            break
        v[dup] = pd.Series(first[dup], dtype=object).to_numpy() + digits(rng, int(dup.sum()), 7)
    p["legacy"] = np.where(has, v, None)
    p["legacy_ok"] = has


def _plant_population(
    rng: np.random.Generator, p: pd.DataFrame, geo: Geo, as_of: dt.date, rates: dict[str, float]
) -> None:
    """Household head defects, malformed CMNDs, missing fields, ID conflicts, namesakes."""
    n = len(p)
    role = p["role"].to_numpy()
    hh = p["hh"].to_numpy()
    nh = int(hh.max()) + 1
    agey = age_at(p["birth"].to_numpy(), as_of)
    adult = agey >= 18
    full = p["prec"].to_numpy() == "D"
    alive = p["status"].to_numpy() == "ALIVE"

    # households: a head recorded as OTHER, or a spouse recorded as a second HEAD
    h_nohead = pick(rng, np.ones(nh, bool), rates["household_no_head"])
    has_sp = np.zeros(nh, bool)
    has_sp[hh[role == "SPOUSE"]] = True
    h_multi = pick(rng, has_sp & ~h_nohead, rates["household_multi_head"])
    p["no_head"] = (role == "HEAD") & h_nohead[hh]
    p["extra_head"] = (role == "SPOUSE") & h_multi[hh]

    # malformed CMND in the master
    bad = pick(rng, p["legacy_ok"].to_numpy(), rates["legacy_id_malformed"])
    leg = p["legacy"].copy()
    kind = rng.integers(0, 3, n)
    lb = leg[bad].astype(str)
    kb = kind[bad]
    lb = np.where(kb == 0, lb.str[:8], np.where(kb == 1, lb + lb.str[-1], lb.str[:5] + "A" + lb.str[6:]))
    leg[bad] = lb
    p["legacy"] = leg
    p["legacy_ok"] = p["legacy_ok"].to_numpy() & ~bad
    p["legacy_bad"] = bad

    # namesakes: two different people with one name and birth date, in different communes
    cand = np.flatnonzero(adult & full & alive & (role != "SPOUSE"))
    k = int(round(rates["namesake"] * n))
    if rates["namesake"] > 0:
        k = max(k, 2)
    p["namesake"] = False
    if k and cand.size > 4 * k:
        s = rng.choice(cand, size=min(cand.size, 40 * k), replace=False)
        key = (
            pd.DataFrame(
                {
                    "i": s,
                    "male": p["male"].to_numpy()[s],
                    "y": pd.Series(p["birth"].to_numpy()[s].astype("datetime64[D]")).dt.year.to_numpy(),
                    "c": p["commune"].to_numpy()[s],
                }
            )
            .sort_values(["male", "y", "i"])
            .reset_index(drop=True)
        )
        same = (
            (key["male"] == key["male"].shift(-1)) & (key["y"] == key["y"].shift(-1)) & (key["c"] != key["c"].shift(-1))
        ).to_numpy()
        pairs = []
        used = np.zeros(len(key), bool)
        for j in np.flatnonzero(same):  # loop over at most a few thousand candidate pairs, not people
            if not used[j] and not used[j + 1]:
                used[j] = used[j + 1] = True
                pairs.append((key["i"][j], key["i"][j + 1]))
                if len(pairs) >= k:
                    break
        if pairs:
            a = np.array([x[0] for x in pairs])
            b = np.array([x[1] for x in pairs])
            for col in ("fam", "mid", "giv", "given", "name", "name_diac", "birth", "bstr"):
                p.loc[b, col] = p[col].to_numpy()[a]
            p.loc[np.concatenate([a, b]), "namesake"] = True

    ns = p["namesake"].to_numpy()
    # missing master fields (adults), and missing residence of children (CHILD_NO_RESIDENCE)
    for col in ("sex", "eth", "birth"):
        p["miss_" + col] = pick(rng, adult & ~ns, rates["citizen_field_missing"])
    kid = (agey < 16) & full & alive
    p["miss_commune"] = pick(rng, adult & ~ns, rates["citizen_field_missing"]) | pick(
        rng, kid, rates["child_no_residence"]
    )

    # master IDs contradicting the master's own sex / birth year / valid prefixes
    conf = pick(
        rng, adult & full & ~ns & ~p["miss_birth"].to_numpy() & ~p["miss_sex"].to_numpy(), rates["citizen_id_conflict"]
    )
    p["id_conflict"] = conf
    if conf.any():
        ids = pd.Series(p["pid"].to_numpy()[conf], dtype=object)
        valid = set(geo.id_prefixes)
        bad_pref = np.array([f"0{i:02d}" for i in range(10, 100) if f"0{i:02d}" not in valid], dtype=object)
        v = rng.integers(0, 3, conf.sum())
        d4 = ids.str[3].astype(int)
        flip = (d4 + np.where(d4 % 2 == 0, 1, -1)).astype(str)
        yy = ((ids.str[4:6].astype(int) + rng.integers(1, 6, conf.sum())) % 100).astype(str).str.zfill(2)
        new = np.where(
            v == 0,
            pd.Series(rng.choice(bad_pref, conf.sum())) + ids.str[3:],
            np.where(v == 1, ids.str[:3] + flip + ids.str[4:], ids.str[:4] + yy + ids.str[6:]),
        )
        stem = pd.Series(new).str[:6].to_numpy()
        keep = set(p["pid"].to_numpy()[~conf])
        p.loc[conf, "pid"] = _unique_ids(rng, stem, keep)


def citizen_rows(people: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The master's `citizen` rows of people `rows` (positions in `people`), indexed by personal ID."""
    m = people.iloc[rows]
    pid = people["pid"].to_numpy()
    fa = m["father"].to_numpy().astype("int64")
    mo = m["mother"].to_numpy().astype("int64")
    return pd.DataFrame(
        {
            "personal_id": m["pid"].to_numpy(),
            "full_name": m["name"].to_numpy(),
            "birth_date": m["m_bstr"].to_numpy(),
            "sex": m["m_sex"].to_numpy(),
            "ethnicity": m["m_eth"].to_numpy(),
            "commune_code": m["m_commune"].to_numpy(),
            "household_id": m["household_id"].to_numpy(),
            "relation_to_head": m["relation"].to_numpy(),
            "legacy_id9": m["legacy"].to_numpy(),
            "father_id": np.where(fa >= 0, pid[np.maximum(fa, 0)], None),
            "mother_id": np.where(mo >= 0, pid[np.maximum(mo, 0)], None),
            "status": m["status"].to_numpy(),
            "death_date": m["m_death"].to_numpy(),
            "updated_at": pd.Series(m["updated"].to_numpy().astype("datetime64[s]")).to_numpy(),
        },
        index=pd.Index(m["pid"].to_numpy(), name="_key"),
    )
