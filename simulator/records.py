"""Rendering people as sector records: which ID they carry, name/date/sex/commune as the sector wrote them.

Every record keeps its semantic columns (who it is, which ID form, which defect) next to the rendered text:
the ground truth is derived from the semantic columns, never by re-parsing the text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import names as N
from .config import REFORM_DATE, Figures, Geo
from .population import _unique_ids
from .text import apply_quirks, map_unique, strip_accents
from .util import (
    add_years,
    day,
    digits,
    dmy,
    from_ymd,
    id_with_dots,
    id_with_spaces,
    in_set,
    isin,
    iso,
    weighted,
    ymd,
)

REFORM = day(REFORM_DATE)
QUIRKS = {  # p_upper, p_nfd, p_tone, p_space
    "vaccination": (0.08, 0.10, 0.40, 0.05),
    "social": (0.85, 0.05, 0.30, 0.10),
    "civil": (0.02, 0.05, 0.40, 0.03),
    "children": (0.05, 0.15, 0.40, 0.05),
}


@dataclass
class Ctx:
    """Everything the record builders share."""

    rng: np.random.Generator
    geo: Geo
    as_of: dt.date
    rates: dict[str, float]
    people: pd.DataFrame  # master people then ghosts (people the master does not have)
    n_master: int
    pid_set: set = field(default_factory=set)
    legacy_set: set = field(default_factory=set)
    figures: Figures | None = None  # calibrated scenario: exact figures to meet (see calibrate.py)

    @property
    def asd(self) -> int:
        return day(self.as_of)


def add_ghosts(ctx: Ctx, k: int, min_age: int = 0, max_age: int = 90) -> np.ndarray:
    """Append k people who are not in the master (own IDs unknown to it); return their indices."""
    if k <= 0:
        return np.zeros(0, dtype="int64")
    rng, geo = ctx.rng, ctx.geo
    male = rng.random(k) < 0.5
    age = rng.integers(min_age, max_age + 1, k)
    birth = ctx.asd - age * 365 - age // 4 - rng.integers(1, 366, k)
    years = pd.Series(birth.astype("datetime64[D]")).dt.year.to_numpy()
    fam = weighted(rng, N.FAMILY_NAMES, k)
    mid = np.where(male, weighted(rng, N.MIDDLE_MALE, k), weighted(rng, N.MIDDLE_FEMALE, k))
    giv = np.where(male, weighted(rng, N.given_names(True), k), weighted(rng, N.given_names(False), k))
    oi = rng.integers(0, len(geo.old), k)
    prefix = rng.choice(geo.id_prefixes, k)
    d4 = (2 * (years // 100 - 19) + (~male).astype("int64")).astype(str)
    stem = pd.Series(prefix).str.cat([pd.Series(d4), pd.Series(years % 100).astype(str).str.zfill(2)])
    pid = _unique_ids(rng, stem.to_numpy(), ctx.pid_set)
    leg = pd.Series(rng.choice(["15", "19", "22", "24"], k), dtype=object) + digits(rng, k, 7)
    leg = leg.where(~in_set(leg.to_numpy(), ctx.legacy_set), "0" + leg.str[1:])
    g = pd.DataFrame(
        {
            "pid": pid,
            "male": male,
            "birth": birth,
            "prec": "D",
            "bstr": iso(birth),
            "fam": fam,
            "mid": mid,
            "giv": giv,
            "old_commune": geo.old["commune_code"].to_numpy()[oi],
            "commune": geo.old["new_commune_code"].to_numpy()[oi],
            "dead": False,
            "death": -1,
            "status": "ALIVE",
            "legacy": leg.to_numpy(),
            "legacy_ok": True,
            "namesake": False,
            "father": -1,
            "mother": -1,
        }
    )
    from .population import _names

    _names(g)
    start = len(ctx.people)
    ctx.people = pd.concat([ctx.people, g], ignore_index=True)
    ctx.pid_set.update(pid)
    return np.arange(start, start + k)


def _choose(rng: np.random.Generator, n: int, probs: dict[str, float]) -> np.ndarray:
    """A category per row; the remainder of probability mass goes to the first key."""
    keys = list(probs)
    p = np.array([probs[k] for k in keys[1:]], dtype=float)
    p = np.concatenate([[max(0.0, 1.0 - p.sum())], p])
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def id_kinds(
    ctx: Ctx,
    pi: np.ndarray,
    *,
    allow_legacy: bool | np.ndarray = True,
    extra_missing: np.ndarray | float = 0.0,
    lost: float | None = None,
    clean: bool = False,
) -> np.ndarray:
    """Which ID each record carries: pid, lost, legacy, missing, garbage, unk12, unk9."""
    rng, r = ctx.rng, ctx.rates
    n = len(pi)
    if clean:
        return np.full(n, "pid", dtype=object)
    p = ctx.people
    in_master = pi < ctx.n_master
    k = _choose(
        rng,
        n,
        {
            "pid": 0,
            "missing": r["id_missing"],
            "garbage": r["id_garbage"],
            "lost": r["id_lost_zeros"] if lost is None else lost,
            "legacy": r["id_legacy"],
            "unk12": r["id_unknown"] * 0.6,
            "unk9": r["id_unknown"] * 0.4,
        },
    )
    legacy_ok = p["legacy_ok"].to_numpy()[pi].astype(bool) & np.broadcast_to(allow_legacy, (n,))
    k = np.where((k == "unk9") & ~np.broadcast_to(allow_legacy, (n,)), "unk12", k)
    k = np.where((k == "legacy") & ~legacy_ok, "pid", k)
    em = rng.random(n) < extra_missing
    k = np.where(em & (k == "pid"), "missing", k)
    ns = p["namesake"].to_numpy()[pi].astype(bool) & (rng.random(n) < 0.5) & (r["namesake"] > 0)
    k = np.where(ns & in_master, "missing", k)
    g = _choose(rng, n, {"unk12": 0, "unk9": 0.15, "missing": 0.25, "garbage": 0.10})
    g = np.where((g == "unk9") & ~np.broadcast_to(allow_legacy, (n,)), "unk12", g)
    return np.where(in_master, k, g).astype(object)


def render_ids(ctx: Ctx, pi: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ID text each record shows, and the 12-digit value behind it (for the ID_CONFLICT check)."""
    rng = ctx.rng
    n = len(pi)
    p = ctx.people
    in_master = pi < ctx.n_master
    pid = pd.Series(p["pid"].to_numpy()[pi], dtype=object)
    text = pd.Series([None] * n, dtype=object)
    id12 = pd.Series([None] * n, dtype=object)
    m = kind == "pid"
    q = rng.random(n)
    text[m] = pid[m]
    sp = m & (q < 0.06)
    text[sp] = id_with_spaces(pid[sp])
    dt_ = m & (q >= 0.06) & (q < 0.11)
    text[dt_] = id_with_dots(pid[dt_])
    id12[m] = pid[m]
    m = kind == "lost"
    text[m] = pid[m].str.lstrip("0")
    id12[m] = pid[m]
    m = kind == "legacy"
    leg = pd.Series(p["legacy"].to_numpy()[pi], dtype=object)
    text[m] = leg[m]
    m = kind == "garbage"
    g = rng.integers(0, 5, n)
    garb = np.select(
        [g == 0, g == 1, g == 2, g == 3],
        [
            (pid.str[:11] + "O").to_numpy(),
            pid.str[:7].to_numpy(),
            (pid + pid.str[-1]).to_numpy(),
            (pid.str[:3] + "-" + pid.str[3:]).to_numpy(),
        ],
        "khong co",
    )
    text[m] = garb[m]
    m = (kind == "unk12") & in_master
    if m.any():
        typo = _unique_ids(rng, pid[m].str[:6].to_numpy(), ctx.pid_set)
        text[m] = typo
        id12[m] = typo
    m = (kind == "unk12") & ~in_master
    text[m] = pid[m]
    id12[m] = pid[m]
    m = (kind == "unk9") & in_master
    if m.any():
        v = pd.Series("1" + digits(rng, int(m.sum()), 8), dtype=object)
        v = v.where(~in_set(v.to_numpy(), ctx.legacy_set), "9" + v.str[1:])
        text[m] = v.to_numpy()
    m = (kind == "unk9") & ~in_master
    text[m] = leg[m]
    return text.to_numpy(), id12.to_numpy()


def attr_kinds(
    ctx: Ctx,
    pi: np.ndarray,
    idk: np.ndarray,
    *,
    unaccented: float | None = None,
    date_invalid: bool = True,
    clean: bool = False,
) -> np.ndarray:
    """One attribute defect per record (or none): typo, unacc, dobwrong, sexwrong, *_null, date_invalid."""
    n = len(pi)
    if clean:
        return np.full(n, "none", dtype=object)
    r = ctx.rates
    ua = r["name_unaccented"] if unaccented is None else unaccented
    fm = r["field_missing"] / 3
    k = _choose(
        ctx.rng,
        n,
        {
            "none": 0,
            "typo": r["name_typo"],
            "unacc": ua,
            "dobwrong": r["birth_date_wrong"],
            "sexwrong": r["sex_wrong"],
            "name_null": fm,
            "dob_null": fm,
            "sex_null": fm,
            "date_invalid": r["date_invalid"] if date_invalid else 0.0,
        },
    )
    det = isin(idk, ["pid", "lost", "legacy"]) & (pi < ctx.n_master)
    return np.where(det | (k == "unacc") | (k == "none"), k, "none").astype(object)


def render_names(ctx: Ctx, pi: np.ndarray, ak: np.ndarray, source: str) -> np.ndarray:
    """Names as the sector wrote them (typo'd, unaccented or with harmless quirks)."""
    rng, p = ctx.rng, ctx.people
    name = pd.Series(p["name"].to_numpy()[pi], dtype=object)
    typo = ak == "typo"
    if typo.any():
        male = p["male"].to_numpy()[pi][typo]
        giv = p["giv"].to_numpy()[pi][typo]
        shift = rng.integers(1, 20, typo.sum())
        gm, gf = np.array(N.GIVEN_MALE, dtype=object), np.array(N.GIVEN_FEMALE, dtype=object)
        new = np.where(male, gm[(giv + shift) % len(gm)], gf[(giv + shift) % len(gf)])
        head = name[typo].str.rsplit(" ", n=1).str[0]
        name[typo] = (head + " " + pd.Series(new, index=head.index)).to_numpy()
    ua = ak == "unacc"
    if ua.any():
        name[ua] = map_unique(name[ua], strip_accents)
    pu, pn, pt, ps = QUIRKS[source]
    name = apply_quirks(name, rng, p_upper=pu, p_nfd=pn, p_tone=pt, p_space=ps)
    name[ak == "name_null"] = None
    return name.to_numpy()


def record_dates(ctx: Ctx, pi: np.ndarray, ak: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(state, day) of the birth date each record holds: ok (possibly wrong), invalid, null."""
    rng, p = ctx.rng, ctx.people
    n = len(pi)
    b = p["birth"].to_numpy()[pi].astype("int64")
    prec = p["prec"].to_numpy()[pi]
    y, m, _ = ymd(b)
    dob = np.where(
        prec == "Y", from_ymd(y, np.ones(n), np.ones(n)), np.where(prec == "M", from_ymd(y, m, np.ones(n)), b)
    )
    wrong = ak == "dobwrong"
    shift = rng.integers(1, 400, n) * np.where(rng.random(n) < 0.5, -1, 1)
    shift = np.where(prec == "D", shift, np.where(prec == "Y", 365 * rng.integers(1, 4, n) + 1, 31 * 3))
    w = dob + shift
    w = np.where(w >= ctx.asd, dob - np.abs(shift), w)
    dob = np.where(wrong, w, dob)
    state = np.where(ak == "dob_null", "null", np.where(ak == "date_invalid", "invalid", "ok")).astype(object)
    return state, dob


def invalid_text(ctx: Ctx, dob: np.ndarray, fmt: str) -> np.ndarray:
    """Unparseable or future dates in the source's text format."""
    rng = ctx.rng
    n = len(dob)
    y = pd.Series(dob.astype("datetime64[D]")).dt.year.astype(str).astype(object)
    fut = ctx.asd + rng.integers(30, 4000, n)
    g = rng.integers(0, 4, n)
    if fmt == "dmy":
        cands = [("31/02/" + y).to_numpy(), ("15/13/" + y).to_numpy(), np.full(n, "00/00/0000", dtype=object)]
        bad = np.select([g == 0, g == 1, g == 2], cands, dmy(fut).to_numpy().astype(object))
    else:
        cands = [(y + "-02-30").to_numpy(), (y + "-13-15").to_numpy(), np.full(n, "0000-00-00", dtype=object)]
        bad = np.select([g == 0, g == 1, g == 2], cands, iso(fut).astype(object))
    return bad.astype(object)


def render_sex(ctx: Ctx, pi: np.ndarray, ak: np.ndarray) -> np.ndarray:
    """M / F / None as the record says."""
    male = ctx.people["male"].to_numpy()[pi].astype(bool)
    male = np.where(ak == "sexwrong", ~male, male)
    s = np.where(male, "M", "F").astype(object)
    s[ak == "sex_null"] = None
    return s


def movers(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Per person: moved before the first night, and the pre-2025 commune (row of `geo.old`) they left.

    A move is a person's: every sector that has not caught up keeps the commune the person left, the same one in
    each sector. Drawn once per person; people added later get theirs when first seen (people the master does not
    have never moved: their records have no master commune to differ from).
    """
    p, r = ctx.people, ctx.rates
    new = p["mover"].isna().to_numpy() if "mover" in p.columns else np.ones(len(p), dtype=bool)
    if new.any():
        share = min(1.0, r["moved"] / r["mover_stale"]) if r["mover_stale"] > 0 else 0.0
        idx = np.flatnonzero(new)
        mover = p["mover"].to_numpy().copy() if "mover" in p.columns else np.zeros(len(p), dtype=object)
        left = p["left_commune"].to_numpy().copy() if "left_commune" in p.columns else np.zeros(len(p), dtype=object)
        mover[idx] = (idx < ctx.n_master) & (ctx.rng.random(idx.size) < share)
        left[idx] = ctx.rng.integers(0, len(ctx.geo.old), idx.size)
        p["mover"] = mover.astype(bool)
        p["left_commune"] = left.astype("int64")
    return p["mover"].to_numpy(), p["left_commune"].to_numpy()


def commune_kinds(ctx: Ctx, pi: np.ndarray, created: np.ndarray, clean: bool = False) -> np.ndarray:
    """ok, moved, outdated, unknown_cur, unknown_old, missing.

    `moved`: the record of a person who moved keeps, with probability `mover_stale`, the commune they left (a
    share `moved` of the records, as a per-record draw gave); the other kinds are drawn among the rest, at rates
    raised so that each stays the share of all records its rate says.
    """
    n = len(pi)
    if clean:
        return np.full(n, "ok", dtype=object)
    r = ctx.rates
    mover, _ = movers(ctx)
    stale = mover[pi] & (pi < ctx.n_master) & (ctx.rng.random(n) < r["mover_stale"])
    rest = max(1.0 - r["moved"], 1e-9)
    k = _choose(
        ctx.rng,
        n,
        {
            "ok": 0,
            "outdated": r["commune_outdated"] / rest,
            "unknown_cur": r["commune_unknown"] / 2 / rest,
            "unknown_old": r["commune_unknown"] / 2 / rest,
            "missing": r["commune_missing"] / rest,
        },
    )
    pre = created < REFORM
    k = np.where(~pre & isin(k, ["outdated", "unknown_old"]), "ok", k)
    return np.where(stale, "moved", k).astype(object)


def unknown_codes(geo: Geo) -> tuple[np.ndarray, np.ndarray]:
    """Codes that are not current communes (for current columns) and not pre-2025 ones (for old columns)."""
    not_cur = np.setdiff1d(geo.legacy_codes_all, geo.current_codes_all)[:200]
    not_old = np.setdiff1d(geo.current_codes_all, geo.legacy_codes_all)[:200]
    not_cur = np.concatenate([not_cur, ["99999", "00000"]]) if not_cur.size else np.array(["99999"])
    not_old = np.concatenate([not_old, ["99998"]]) if not_old.size else np.array(["99998"])
    return not_cur.astype(object), not_old.astype(object)


def render_communes(ctx: Ctx, pi: np.ndarray, created: np.ndarray, ck: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(current-code column, old-code column) of each record."""
    rng, geo, p = ctx.rng, ctx.geo, ctx.people
    n = len(pi)
    old = p["old_commune"].to_numpy()[pi].astype(object)
    cur = p["commune"].to_numpy()[pi].astype(object)
    mv = ck == "moved"
    if mv.any():
        _, left = movers(ctx)
        j = left[pi]
        nc = geo.old["new_commune_code"].to_numpy()
        # the commune left can be the person's own (about 1 in 99 draws, or a later move back): then another, per record
        j = np.where(nc[j] == cur, rng.integers(0, len(geo.old), n), j)
        old = np.where(mv, geo.old["commune_code"].to_numpy()[j], old)
        cur = np.where(mv, nc[j], cur)
    pre = created < REFORM
    old = np.where(pre, old, None)
    not_cur, not_old = unknown_codes(geo)
    cur = np.where(ck == "outdated", None, cur)
    cur = np.where(ck == "unknown_cur", rng.choice(not_cur, n), cur)
    cur = np.where(ck == "unknown_old", None, cur)
    old = np.where(ck == "unknown_old", rng.choice(not_old, n), old)
    cur = np.where(ck == "missing", None, cur)
    old = np.where(ck == "missing", None, old)
    return cur.astype(object), old.astype(object)


def updated_ts(ctx: Ctx, created: np.ndarray, updated_after_reform: np.ndarray) -> np.ndarray:
    """Last-change timestamps (seconds) not after the as-of date: after the reform when the record was updated."""
    rng = ctx.rng
    n = len(created)
    hi = np.full(n, ctx.asd - 1)
    lo = np.where(updated_after_reform, np.maximum(created, REFORM), created)
    hi = np.where(~updated_after_reform & (created < REFORM), np.minimum(hi, REFORM - 1), hi)
    lo = np.minimum(lo, hi)
    d = lo + (rng.random(n) * (hi - lo + 1)).astype("int64")
    return d * 86400 + rng.integers(6 * 3600, 20 * 3600, n)


def base_records(
    ctx: Ctx,
    pi: np.ndarray,
    created: np.ndarray,
    source: str,
    *,
    clean: bool = False,
    allow_legacy: bool = True,
    extra_missing: float | np.ndarray = 0.0,
    lost: float | None = None,
    unaccented: float | None = None,
    date_invalid: bool = True,
    forced_kind: np.ndarray | None = None,
) -> pd.DataFrame:
    """The semantic frame of a source's records for people `pi` (created on day `created`)."""
    pi = np.asarray(pi, dtype="int64")
    created = np.minimum(np.asarray(created, dtype="int64"), ctx.asd - 1)
    idk = (
        forced_kind
        if forced_kind is not None
        else id_kinds(ctx, pi, allow_legacy=allow_legacy, extra_missing=extra_missing, lost=lost, clean=clean)
    )
    id_text, id12 = render_ids(ctx, pi, idk)
    ak = attr_kinds(
        ctx, pi, idk, unaccented=unaccented, date_invalid=date_invalid, clean=clean or forced_kind is not None
    )
    dstate, dob = record_dates(ctx, pi, ak)
    ck = commune_kinds(ctx, pi, created, clean=clean or forced_kind is not None)
    cur, old = render_communes(ctx, pi, created, ck)
    in_master = pi < ctx.n_master
    link = np.where(
        ~in_master,
        "none",
        np.where(isin(idk, ["pid", "lost"]), "personal_id", np.where(idk == "legacy", "legacy_id", "probabilistic")),
    )
    return pd.DataFrame(
        {
            "pi": pi,
            "in_master": in_master,
            "link_class": link,
            "id_kind": idk,
            "id_text": id_text,
            "id12": id12,
            "attr": ak,
            "name_text": render_names(ctx, pi, ak, source),
            "dob_state": dstate,
            "dob": dob,
            "sex": render_sex(ctx, pi, ak),
            "ckind": ck,
            "cur": cur,
            "old": old,
            "created": created,
            "updated": updated_ts(ctx, created, (created < REFORM) & pd.notna(cur)),
        }
    )


def duplicates(
    ctx: Ctx, frame: pd.DataFrame, source: str, eligible: np.ndarray, count: int | None = None, **kw
) -> pd.DataFrame:
    """Second records of some people (another ID form), for DUPLICATE; `count` of them when given."""
    sel = np.flatnonzero(eligible & frame["in_master"].to_numpy())
    k = int(round(ctx.rates["duplicate"] * len(frame)))
    if ctx.rates["duplicate"] > 0:
        k = max(k, 2)
    if count is not None:
        if count > sel.size:
            raise ValueError(f"calibration: {source} needs {count:,} duplicates, only {sel.size:,} qualify")
        k = count
    k = min(k, sel.size)
    if k == 0:
        return frame.iloc[0:0]
    rows = np.sort(ctx.rng.choice(sel, size=k, replace=False))
    pi = frame["pi"].to_numpy()[rows]
    legacy_ok = ctx.people["legacy_ok"].to_numpy()[pi].astype(bool)
    kinds = _choose(ctx.rng, k, {"pid": 0, "missing": 0.3, "legacy": 0.3 if kw.get("allow_legacy", True) else 0})
    kinds = np.where((kinds == "legacy") & ~legacy_ok, "pid", kinds).astype(object)
    created = frame["created"].to_numpy()[rows] + ctx.rng.integers(30, 900, k)
    kw.pop("allow_legacy", None)
    d = base_records(ctx, pi, created, source, forced_kind=kinds, **kw)
    d["dup_of"] = rows
    return d


def date_text(days: np.ndarray, fmt: str) -> np.ndarray:
    """Render day numbers as dmy or iso text."""
    return (dmy(days).to_numpy() if fmt == "dmy" else iso(days)).astype(object)


def birth_text(ctx: Ctx, f: pd.DataFrame, fmt: str | np.ndarray) -> np.ndarray:
    """The birth-date text column of a source (valid, invalid or NULL as the semantic state says)."""
    dob = f["dob"].to_numpy()
    fmts = np.broadcast_to(np.asarray(fmt, dtype=object), dob.shape)
    out = np.where(fmts == "dmy", date_text(dob, "dmy"), date_text(dob, "iso")).astype(object)
    inv = f["dob_state"].to_numpy() == "invalid"
    bad = np.where(fmts == "dmy", invalid_text(ctx, dob, "dmy"), invalid_text(ctx, dob, "iso"))
    out = np.where(inv, bad, out)
    out[f["dob_state"].to_numpy() == "null"] = None
    return out


def years_ago(ctx: Ctx, days: np.ndarray, years: int) -> np.ndarray:
    """The day `years` after each day (helper for eligibility)."""
    return add_years(days, np.full(len(days), years))
