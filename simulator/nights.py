"""advance(): move the five source databases from night D to D+1 as a province does overnight.

The simulator's own memory between nights (people, households, the sector records' semantic frames and the
rendered tables exactly as the databases hold them) lives beside the truth file in `<truth stem>_state/`, so a
new process can advance. Each night's ground truth is derived from the semantic frames, as on the first night.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from . import names as N
from .config import Geo, load_geo
from .population import _names, _unique_ids, citizen_rows
from .records import Ctx, base_records, birth_text, unknown_codes
from .schema import SOURCES, default_urls, make_engine, metadata
from .sources import SEX_VI, _reg_commune
from .text import map_unique, strip_accents
from .truth import population_truth, sector_truth
from .util import day, digits, dmy, isin, iso, ts_text, weighted, ymd

SECTORS = ("vaccination", "social", "civil", "children")
TWO_COLUMN = ("vaccination", "social", "children")
# table -> key column (None: no key, rows addressed by all their values)
KEYS = {
    "population.citizen": "personal_id",
    "population.household": "household_id",
    "vaccination.doi_tuong": "ma_doi_tuong",
    "vaccination.mui_tiem": "ma_mui",
    "vaccination.ho_chieu_vac_xin": None,
    "social.BENEFICIARY": "BENEFICIARY_ID",
    "social.PAYMENT": "PAYMENT_ID",
    "civil.ho_tich": "id",
    "children.tre_em": "ma_tre",
}
# table -> (update column, "ts" for a TIMESTAMP column or "text" for yyyy-mm-dd HH:MM:SS)
UPDATED = {
    "population.citizen": ("updated_at", "ts"),
    "population.household": ("updated_at", "ts"),
    "vaccination.doi_tuong": ("ngay_cap_nhat", "text"),
    "social.BENEFICIARY": ("UPDATED_AT", "ts"),
    "civil.ho_tich": ("cap_nhat_luc", "text"),
    "children.tre_em": ("cap_nhat", "text"),
}
RECORDS = {"vaccination": "doi_tuong", "social": "BENEFICIARY", "civil": "ho_tich", "children": "tre_em"}
# the rendered columns of a sector record: name, ID, sex, birth date, current and old commune
COLS = {
    "vaccination": ("ho_ten", "so_giay_to", "gioi_tinh", "ngay_sinh", "ma_xa", "ma_xa_cu"),
    "social": ("FULL_NAME", "ID_NUMBER", "GENDER", "DOB", "COMMUNE_CODE", "COMMUNE_CODE_OLD"),
    "civil": ("ho_ten", "so_dinh_danh", "gioi_tinh", "ngay_sinh", "noi_dang_ky", None),
    "children": ("ho_va_ten", "ma_dinh_danh", "gioi_tinh", "ngay_sinh", "ma_xa", "ma_xa_cu"),
}
DUE = ("due_master", "due_child", "due_death", "due_move")


class StateError(ValueError):
    """No kept state to advance from, or a request the state cannot serve (one line)."""


def state_dir(truth_path: str | Path) -> Path:
    """`<truth folder>/<truth stem>_state/`."""
    tp = Path(truth_path)
    return tp.parent / f"{tp.stem}_state"


def _table_path(sd: Path, name: str) -> Path:
    return sd / f"table_{name}.parquet"


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, else None."""
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        return Path(u.database)
    return None


# ------------------------------------------------------------------------------------------------ the state
def save_initial_state(
    tp: Path, b: dict, urls: dict[str, str], *, seed: int, province_code: str, as_of: dt.date
) -> None:
    """Keep what `advance` needs after `simulate`: people, households, frames, rendered tables, settings."""
    sd = state_dir(tp)
    sd.mkdir(parents=True, exist_ok=True)
    st = b["state"]
    people = st["people"].copy()
    people["in_master"] = np.arange(len(people)) < b["n_master"]
    people["hh"] = people["hh"].fillna(-1).astype("int64")  # ghosts have no household
    for c in DUE:
        people[c] = np.int64(-1)
    tables = {}
    for src, ts in b["tables"].items():
        for t, df in ts.items():
            name = f"{src}.{t}"
            key = KEYS[name]
            df = df.copy()
            if key is None:
                df.index = pd.RangeIndex(len(df), name="_row")
            else:
                df.index = pd.Index(df[key].to_numpy(), name="_key")
            if name == "vaccination.mui_tiem":
                df["_day"] = _dmy_days(df["ngay_tiem"])
            tables[name] = df
    frames = {s: f.set_index(pd.Index(f["rid"].astype(str).to_numpy(), name="_key")) for s, f in st["frames"].items()}
    meta = {
        "scenario": b["meta"]["scenario"],
        "seed": seed,
        "province": province_code,
        "as_of": as_of.isoformat(),
        "first_as_of": as_of.isoformat(),
        "n_master": b["n_master"],
        "rates": b["meta"]["rates"],
        "clean": all(v == 0 for v in b["meta"]["rates"].values()),
        "down": [],
        "last_good": {s: as_of.isoformat() for s in SOURCES},
        "nights": [as_of.isoformat()],
    }
    _write_state(sd, meta, people, st["households"], frames, tables)


def _write_state(sd: Path, meta: dict, people, households, frames: dict, tables: dict) -> None:
    """Write every piece, then state.json last (its presence means the state is whole)."""
    (sd / "state.json").unlink(missing_ok=True)
    people.to_parquet(sd / "people.parquet")
    households.to_parquet(sd / "households.parquet")
    for s, f in frames.items():
        f.to_parquet(sd / f"frame_{s}.parquet")
    for name, df in tables.items():
        df.to_parquet(_table_path(sd, name))
    (sd / "state.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_meta(truth_path: str | Path) -> dict:
    """The kept state's settings (StateError when there is none)."""
    sd = state_dir(truth_path)
    if not (sd / "state.json").exists():
        raise StateError(f"no kept simulator state in {sd}: run `doisoat simulate` first (then --advance)")
    return json.loads((sd / "state.json").read_text(encoding="utf-8"))


def _objects(df: pd.DataFrame, columns: bool = True) -> pd.DataFrame:
    """Text columns (and a text index) as Python objects: the many small look-ups of a night then cost nothing."""
    if columns:
        text = [c for c in df.columns if pd.api.types.is_string_dtype(df[c].dtype)]
        df = df.astype(dict.fromkeys(text, object)) if text else df
    if pd.api.types.is_string_dtype(df.index.dtype):
        df.index = pd.Index(df.index.to_numpy(dtype=object), dtype=object, name=df.index.name)
    return df


def _dmy_days(s: pd.Series) -> np.ndarray:
    """Day numbers of dd/mm/yyyy text."""
    d = pd.to_datetime(s.astype(object), format="%d/%m/%Y")
    return d.to_numpy().astype("datetime64[D]").astype("int64")


# ------------------------------------------------------------------------------------------------ one night
@dataclass
class Night:
    """Everything one advance works on, and what it touched."""

    rng: np.random.Generator
    as_of: dt.date
    rate: float
    geo: Geo
    meta: dict
    people: pd.DataFrame
    households: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    tables: dict[str, pd.DataFrame]
    frozen: set[str]
    touched: dict[str, list] = field(default_factory=dict)
    cit: list = field(default_factory=list)  # people indices whose citizen row changed
    _ctx: Ctx | None = None

    @property
    def dD(self) -> int:
        return day(self.as_of)

    @property
    def yd(self) -> int:
        """The day the changes happen: the day before the night."""
        return day(self.as_of) - 1

    @property
    def clean(self) -> bool:
        return bool(self.meta["clean"])

    def up(self, src: str) -> bool:
        return src not in self.frozen

    def touch(self, name: str, keys) -> None:
        self.touched.setdefault(name, []).append(np.asarray(keys, dtype=object))

    def budget(self, n: int, share: float, minimum: int = 1) -> int:
        return max(minimum, int(round(n * self.rate * share))) if n else 0

    def pick(self, mask: np.ndarray, k: int) -> np.ndarray:
        """Up to k positions where mask is true, at random, sorted."""
        idx = np.flatnonzero(mask)
        if k <= 0 or idx.size == 0:
            return idx[:0]
        return np.sort(self.rng.choice(idx, size=min(k, idx.size), replace=False))

    def ctx(self) -> Ctx:
        """A record-builder context in which every person counts as known (kinds are drawn as for the master)."""
        p = self.people
        if self._ctx is not None:
            self._ctx.people, self._ctx.n_master = p, len(p)
        else:
            self._ctx = Ctx(
                rng=self.rng,
                geo=self.geo,
                as_of=self.as_of,
                rates=self.meta["rates"],
                people=p,
                n_master=len(p),
                pid_set=set(p["pid"].to_numpy()),
                legacy_set=set(p["legacy"].dropna().to_numpy()),
            )
        return self._ctx

    def alive(self) -> np.ndarray:
        p = self.people
        return p["in_master"].to_numpy() & (p["status"].to_numpy() == "ALIVE") & ~p["dead"].to_numpy().astype(bool)

    def age(self) -> np.ndarray:
        y, _, _ = ymd(self.people["birth"].to_numpy())
        return self.as_of.year - y


def _append(df: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Rows appended with every column of `df` (absent ones filled by a typed default), dtypes kept."""
    new = new.copy()
    for c in df.columns:
        if c not in new.columns:
            k = df[c].dtype.kind
            new[c] = False if k == "b" else (-1 if k in "iu" else (np.nan if k == "f" else None))
    new = new[list(df.columns)]
    out = pd.concat([df, new])
    for c in df.columns:
        if df[c].dtype.kind in "biu" and out[c].dtype != df[c].dtype:
            out[c] = out[c].astype(df[c].dtype)
    return out


def _stamps(nt: Night, k: int) -> np.ndarray:
    """k update times (seconds) inside the day before the night."""
    return nt.yd * 86400 + nt.rng.integers(7 * 3600, 20 * 3600, k)


def _next_ids(existing: pd.Index, k: int, prefix: str = "", width: int = 0) -> np.ndarray:
    """k new keys after the largest existing one (numbers, or prefix + zero-padded numbers)."""
    if prefix:  # fixed-width keys: the largest text is the largest number
        top = int(str(existing.max())[len(prefix) :]) if len(existing) else 0
        return np.array([f"{prefix}{i:0{width}d}" for i in range(top + 1, top + 1 + k)], dtype=object)
    top = int(pd.Series(existing).astype("int64").max()) if len(existing) else 0
    return np.arange(top + 1, top + 1 + k, dtype="int64")


# --------------------------------------------------------------------------------------- rendering helpers
def _true_dob(nt: Night, pi: np.ndarray) -> np.ndarray:
    """The birth day a correct record holds (to the master's precision)."""
    p = nt.people
    b = p["birth"].to_numpy()[pi].astype("int64")
    prec = p["prec"].to_numpy()[pi]
    y, m, _ = ymd(b)
    from .util import from_ymd

    one = np.ones(len(pi))
    return np.where(prec == "Y", from_ymd(y, one, one), np.where(prec == "M", from_ymd(y, m, one), b))


def _render(nt: Night, src: str, rids: np.ndarray, what: tuple[str, ...]) -> None:
    """Write the semantic frame's values of `what` (name, id, sex, dob, cur, old) into the rendered table."""
    f = nt.frames[src]
    t = nt.tables[f"{src}.{RECORDS[src]}"]
    tkeys = rids.astype("int64") if src in ("social", "civil") else rids
    cols = dict(zip(("name", "id", "sex", "dob", "cur", "old"), COLS[src], strict=True))
    sub = f.loc[rids]
    for w in what:
        col = cols[w]
        if col is None or len(rids) == 0:
            continue
        if w == "name":
            v = sub["name_text"].to_numpy()
        elif w == "id":
            v = sub["id_text"].to_numpy()
        elif w == "sex" and src == "social":
            v = sub["sex"].map({"M": 1, "F": 2}).astype("Int64").to_numpy()
        elif w == "sex":
            v = sub["sex"].map(SEX_VI).to_numpy()
        elif w == "dob" and src == "social":
            d = sub["dob"].to_numpy().astype("int64").astype("datetime64[D]").astype("datetime64[s]")
            v = pd.Series(d).where(sub["dob_state"].to_numpy() == "ok").to_numpy()
        elif w == "dob":
            old = t.loc[tkeys, col].astype(object)
            fmt = {"vaccination": "dmy", "civil": "iso"}.get(src)
            fmt = fmt or np.where(old.str.contains("/", na=False).to_numpy(), "dmy", "iso")
            v = birth_text(nt.ctx(), sub, fmt)
        elif w == "cur":
            v = sub["noi" if src == "civil" else "cur"].to_numpy()
        else:
            v = sub["old"].to_numpy()
        t.loc[tkeys, col] = v
    nt.touch(f"{src}.{RECORDS[src]}", tkeys)


def _drop_records(nt: Night, src: str, rids: np.ndarray) -> None:
    """Delete sector records (and, for vaccination and social, the rows that belong to them)."""
    if rids.size == 0:
        return
    name = f"{src}.{RECORDS[src]}"
    tkeys = rids.astype("int64") if src in ("social", "civil") else rids
    nt.frames[src] = nt.frames[src].drop(index=rids)
    nt.tables[name] = nt.tables[name].drop(index=tkeys)
    nt.touch(name, tkeys)
    if src == "vaccination":
        for child, col in (("vaccination.mui_tiem", "ma_doi_tuong"), ("vaccination.ho_chieu_vac_xin", "ma_doi_tuong")):
            t = nt.tables[child]
            gone = t.index[t[col].isin(list(rids)).to_numpy()]
            nt.tables[child] = t.drop(index=gone)
            nt.touch(child, gone.to_numpy())
    if src == "social":
        t = nt.tables["social.PAYMENT"]
        gone = t.index[t["BENEFICIARY_ID"].isin(list(tkeys)).to_numpy()]
        nt.tables["social.PAYMENT"] = t.drop(index=gone)
        nt.touch("social.PAYMENT", gone.to_numpy())


# --------------------------------------------------------------------------------------------- demography
def _civil_entries(nt: Night, pis: np.ndarray, loai: str, kinds: np.ndarray | None) -> None:
    """New civil-status entries registered yesterday (births: the child; deaths: the deceased)."""
    k = len(pis)
    if k == 0:
        return
    ctx = nt.ctx()
    f_old = nt.frames["civil"]
    t = nt.tables["civil.ho_tich"]
    f = base_records(
        ctx, pis, np.full(k, nt.yd), "civil", clean=nt.clean, allow_legacy=loai != "KHAI_SINH", forced_kind=kinds
    )
    ids = _next_ids(t.index, k)
    p = nt.people
    f["loai"] = loai
    f["reg"] = nt.yd
    f["wife"] = -1
    f["dup_of"] = -1
    f["paper"] = False
    f["noi"] = p["commune"].to_numpy()[pis].astype(object)
    f["noi_kind"] = "ok"
    f["status"] = "DA_SO_HOA"
    f["rid"] = ids.astype(str)
    f["source"] = "civil"
    f.index = pd.Index(f["rid"].to_numpy(), name="_key")
    nt.frames["civil"] = _append(f_old, f)
    year = str(ymd(np.array([nt.yd]))[0][0])
    same = t[((t["loai"] == loai) & t["ngay_dang_ky"].str.startswith(year)).fillna(False).to_numpy(dtype=bool)]
    base = same.groupby("noi_dang_ky").size()
    seq = base.reindex(f["noi"].to_numpy()).fillna(0).to_numpy().astype("int64")
    seq = seq + f.groupby(f["noi"].fillna("-")).cumcount().to_numpy() + 1
    fa = p["father"].to_numpy()[pis].astype("int64")
    mo = p["mother"].to_numpy()[pis].astype("int64")
    names = p["name"].to_numpy()
    births = loai == "KHAI_SINH"
    rows = pd.DataFrame(
        {
            "id": ids,
            "loai": loai,
            "quyen_so": (pd.Series(nt.rng.integers(1, 6, k)).astype(str).str.zfill(2) + "/" + year).to_numpy(),
            "so_dang_ky": seq.astype(str),
            "ngay_dang_ky": iso(np.full(k, nt.yd)),
            "noi_dang_ky": f["noi"].to_numpy(),
            "ho_ten": f["name_text"].to_numpy(),
            "ngay_sinh": birth_text(ctx, f, "iso"),
            "gioi_tinh": f["sex"].map(SEX_VI).to_numpy(),
            "so_dinh_danh": f["id_text"].to_numpy(),
            "ngay_chet": None if births else iso(np.maximum(p["death"].to_numpy()[pis], 0)),
            "ho_ten_cha": np.where(births & (fa >= 0), names[np.maximum(fa, 0)], None),
            "ho_ten_me": np.where(births & (mo >= 0), names[np.maximum(mo, 0)], None),
            "ho_ten_2": None,
            "so_dinh_danh_2": None,
            "trang_thai_so_hoa": "DA_SO_HOA",
            "cap_nhat_luc": None,
        },
        index=pd.Index(ids, name="_key"),
    )
    nt.tables["civil.ho_tich"] = _append(t, rows)
    nt.touch("civil.ho_tich", ids)


def deaths(nt: Night) -> None:
    """Deaths: a civil KHAI_TU entry tonight; the master records the death a few nights later (or never)."""
    p = nt.people
    if nt.up("population"):  # deaths registered earlier reach the master
        due = p["due_death"].to_numpy()
        rows = np.flatnonzero((due >= 0) & (due <= nt.dD) & p["in_master"].to_numpy())
        p.loc[p.index[rows], "status"] = "DECEASED"
        p.loc[p.index[rows], "m_death"] = iso(p["death"].to_numpy()[rows])
        p.loc[p.index[rows], "due_death"] = -1
        nt.cit.append(rows)
    if not nt.up("civil"):
        return
    age = nt.age()
    k = nt.budget(int(nt.alive().sum()), 0.01, minimum=2)
    rows = nt.pick(nt.alive() & (age >= 45), k)
    death = np.maximum(nt.yd - nt.rng.integers(0, 3, rows.size), p["birth"].to_numpy()[rows] + 1)
    p.loc[p.index[rows], "dead"] = True
    p.loc[p.index[rows], "death"] = death
    later = nt.dD + nt.rng.integers(1, 4, rows.size)
    never = (nt.rng.random(rows.size) < 0.1) & (not nt.clean)
    p.loc[p.index[rows], "due_death"] = np.where(never, -1, later)
    _civil_entries(nt, rows, "KHAI_TU", None)


def _household_parents(p: pd.DataFrame, mothers: np.ndarray) -> np.ndarray:
    """The father of each mother's newborn: the male head or spouse of her household, else -1."""
    hh = p["hh"].to_numpy()
    role = p["role"].to_numpy()
    male = p["male"].to_numpy().astype(bool)
    alive = p["in_master"].to_numpy()
    cand = pd.DataFrame({"i": np.arange(len(p)), "hh": hh})[isin(role, ["HEAD", "SPOUSE"]) & male & alive]
    first = cand.drop_duplicates("hh").set_index("hh")["i"]
    return first.reindex(hh[mothers]).fillna(-1).to_numpy().astype("int64")


def births(nt: Night) -> None:
    """Births: a civil KHAI_SINH entry tonight; the master citizen and the child record some nights later."""
    p = nt.people
    if nt.up("population"):
        due = p["due_master"].to_numpy()
        rows = np.flatnonzero((due >= 0) & (due <= nt.dD))
        p.loc[p.index[rows], "in_master"] = True
        p.loc[p.index[rows], "due_master"] = -1
        nt.cit.append(rows)
    if nt.up("children"):
        due = p["due_child"].to_numpy()
        rows = np.flatnonzero((due >= 0) & (due <= nt.dD))
        p.loc[p.index[rows], "due_child"] = -1
        _child_records(nt, rows)
    if not nt.up("civil"):
        return
    age = nt.age()
    female = ~p["male"].to_numpy().astype(bool)
    ok = nt.alive() & female & (age >= 20) & (age <= 42) & isin(p["role"].to_numpy(), ["HEAD", "SPOUSE"])
    k = nt.budget(int(p["in_master"].sum()), 0.015, minimum=2)
    mothers = nt.pick(ok, k)
    k = mothers.size
    if k == 0:
        return
    rng, geo = nt.rng, nt.geo
    g = p.iloc[mothers].copy().reset_index(drop=True)
    male = rng.random(k) < 0.512
    birth = nt.yd - rng.integers(0, 20, k)
    year = ymd(birth)[0]
    father = _household_parents(p, mothers)
    fam = np.where(father >= 0, p["fam"].to_numpy()[np.maximum(father, 0)], g["fam"].to_numpy())
    cur3 = geo.province_code.zfill(3)
    prefix = cur3 if cur3 in set(geo.id_prefixes) else geo.home_prefixes[0]
    d4 = (2 * (year // 100 - 19) + (~male).astype("int64")).astype(str)
    stem = (prefix + pd.Series(d4) + pd.Series(year % 100).astype(str).str.zfill(2)).to_numpy()
    hhc = nt.households.set_index("hh")["commune"]
    commune = hhc.reindex(g["hh"].to_numpy()).to_numpy().astype(object)
    bstr = iso(birth).astype(object)
    g = g.assign(
        pid=_unique_ids(rng, stem, nt.ctx().pid_set),
        role="CHILD",
        relation="CHILD",
        male=male,
        birth=birth,
        prec="D",
        bstr=bstr,
        m_bstr=bstr,
        fam=fam,
        mid=np.where(male, weighted(rng, N.MIDDLE_MALE, k), weighted(rng, N.MIDDLE_FEMALE, k)),
        giv=np.where(male, weighted(rng, N.given_names(True), k), weighted(rng, N.given_names(False), k)),
        father=father,
        mother=mothers,
        commune=commune,
        m_commune=commune,
        m_sex=np.where(male, "M", "F").astype(object),
        m_eth=g["m_eth"].fillna("Kinh").to_numpy(),
        born_here=True,
        dead=False,
        death=-1,
        status="ALIVE",
        m_death=None,
        legacy=None,
        legacy_ok=False,
        legacy_bad=False,
        in_master=False,
        due_master=nt.dD + rng.integers(1, 4, k),
        due_child=nt.dD + rng.integers(2, 8, k),
        due_death=-1,
        due_move=-1,
    )
    for c in ("kid_dead", "dnr", "renounced", "namesake", "no_head", "extra_head", "id_conflict"):
        if c in g.columns:
            g[c] = False
    for c in [c for c in g.columns if c.startswith("miss_")]:
        g[c] = False
    _names(g)
    start = len(p)
    g.index = pd.RangeIndex(start, start + k)
    nt.people = _append(p, g)
    nt.ctx().pid_set.update(g["pid"].to_numpy())
    pis = np.arange(start, start + k)
    kinds = np.where((rng.random(k) < 0.9) | nt.clean, "pid", "missing").astype(object)
    _civil_entries(nt, pis, "KHAI_SINH", kinds)


def _child_records(nt: Night, pis: np.ndarray) -> None:
    """New child records (newborns reach the child registry, or children the registry had missed)."""
    k = len(pis)
    if k == 0:
        return
    rng, ctx, p = nt.rng, nt.ctx(), nt.people
    kinds = np.where((rng.random(k) < 0.9) | nt.clean, "pid", "missing").astype(object)
    f = base_records(ctx, pis, np.full(k, nt.yd), "children", clean=nt.clean, allow_legacy=False, forced_kind=kinds)
    t = nt.tables["children.tre_em"]
    ids = _next_ids(t.index, k, "TE", 8)
    f["dup_of"] = -1
    f["rid"] = ids
    f["review_kind"] = "ok"
    f["review"] = nt.yd
    f["source"] = "children"
    f.index = pd.Index(ids, name="_key")
    nt.frames["children"] = _append(nt.frames["children"], f)
    mo = p["mother"].to_numpy()[pis].astype("int64")
    has = mo >= 0
    rows = pd.DataFrame(
        {
            "ma_tre": ids,
            "ho_va_ten": f["name_text"].to_numpy(),
            "ngay_sinh": birth_text(ctx, f, np.where(rng.random(k) < 0.5, "dmy", "iso")),
            "gioi_tinh": f["sex"].map(SEX_VI).to_numpy(),
            "ma_dinh_danh": f["id_text"].to_numpy(),
            "ho_ten_me": np.where(has, p["name"].to_numpy()[np.maximum(mo, 0)], None),
            "cccd_me": np.where(has, p["pid"].to_numpy()[np.maximum(mo, 0)], None),
            "ma_xa": f["cur"].to_numpy(),
            "ma_xa_cu": f["old"].to_numpy(),
            "hoan_canh": "BINH_THUONG",
            "ngay_ra_soat": iso(np.full(k, nt.yd)),
            "cap_nhat": None,
        },
        index=pd.Index(ids, name="_key"),
    )
    nt.tables["children.tre_em"] = _append(t, rows)
    nt.touch("children.tre_em", ids)


def _address(nt: Night, communes: np.ndarray) -> np.ndarray:
    k = len(communes)
    unit = np.array(N.ADDRESS_UNITS, dtype=object)[nt.rng.integers(0, len(N.ADDRESS_UNITS), k)]
    cname = pd.Series(communes).map(nt.geo.names).fillna("").to_numpy()
    num = pd.Series(nt.rng.integers(1, 300, k)).astype(str).to_numpy()
    sub = pd.Series(nt.rng.integers(1, 25, k)).astype(str).to_numpy()
    return ("Số " + pd.Series(num) + ", " + pd.Series(unit) + " " + pd.Series(sub) + ", " + pd.Series(cname)).to_numpy()


def moves(nt: Night) -> None:
    """Households move between communes: the master first, the sectors some nights later or never."""
    p = nt.people
    for src in TWO_COLUMN:  # earlier moves reach the sectors
        if not nt.up(src):
            continue
        f = nt.frames[src]
        due = p["due_move"].to_numpy()[f["pi"].to_numpy()]
        sel = (due >= 0) & (due <= nt.dD)
        rids = f.index[sel].to_numpy()
        f.loc[rids, "cur"] = p["commune"].to_numpy()[f.loc[rids, "pi"].to_numpy()]
        f.loc[rids, "ckind"] = "ok"
        _render(nt, src, rids, ("cur",))
    due = p["due_move"].to_numpy()
    p.loc[p.index[(due >= 0) & (due <= nt.dD)], "due_move"] = -1
    if not nt.up("population"):
        return
    h = nt.households
    k = nt.budget(len(h), 0.3)
    rows = nt.pick(np.ones(len(h), bool), k)
    codes = nt.geo.current["commune_code"].to_numpy().astype(object)
    new = codes[nt.rng.integers(0, len(codes), rows.size)]
    same = new == h["commune"].to_numpy()[rows]
    new = np.where(same, codes[(np.searchsorted(codes, new) + 1) % len(codes)], new)
    h.loc[h.index[rows], "commune"] = new
    h.loc[h.index[rows], "address_line"] = _address(nt, new)
    nt.touch("population.household", h["household_id"].to_numpy()[rows])
    to = pd.Series(new, index=h["hh"].to_numpy()[rows])
    members = np.flatnonzero(isin(p["hh"].to_numpy(), to.index.to_numpy()))
    dest = to.reindex(p["hh"].to_numpy()[members]).to_numpy()
    p.loc[p.index[members], "commune"] = dest
    p.loc[p.index[members], "m_commune"] = dest
    later = nt.dD + nt.rng.integers(1, 8, members.size)
    p.loc[p.index[members], "due_move"] = np.where(nt.rng.random(members.size) < 0.7, later, -1)
    nt.cit.append(members[p["in_master"].to_numpy()[members]])


def households_split_merge(nt: Night) -> None:
    """A grown child sets up a new household (insert); a one-person household joins another (delete)."""
    if not nt.up("population"):
        return
    p, h, rng = nt.people, nt.households, nt.rng
    k = nt.budget(len(h), 0.03)
    age = nt.age()
    grown = nt.alive() & (p["role"].to_numpy() == "CHILD") & (age >= 22)
    rows = nt.pick(grown, k)
    if rows.size:
        nums = pd.Series(h["household_id"].astype(str).str[-8:].astype("int64"))
        ids = np.array([f"HO{nt.geo.province_code}{i:08d}" for i in range(nums.max() + 1, nums.max() + 1 + rows.size)])
        hh = np.arange(h["hh"].max() + 1, h["hh"].max() + 1 + rows.size)
        codes = nt.geo.current["commune_code"].to_numpy().astype(object)
        com = codes[rng.integers(0, len(codes), rows.size)]
        old = nt.geo.old.drop_duplicates("new_commune_code").set_index("new_commune_code")["commune_code"]
        new = pd.DataFrame(
            {
                "hh": hh,
                "commune": com,
                "old_commune": old.reindex(com).to_numpy(),
                "household_id": ids,
                "address_line": _address(nt, com),
                "updated": _stamps(nt, rows.size),
            }
        )
        nt.households = h = _append(h, new.set_index(pd.RangeIndex(len(h), len(h) + rows.size)))
        for col, v in (("hh", hh), ("household_id", ids), ("role", "HEAD"), ("relation", "HEAD")):
            p.loc[p.index[rows], col] = v
        p.loc[p.index[rows], "commune"] = com
        p.loc[p.index[rows], "m_commune"] = com
        nt.touch("population.household", ids)
        nt.cit.append(rows)
    # one-person households whose member joins another household
    size = p[p["hh"].to_numpy() >= 0].groupby("hh").size()
    alone = size[size == 1].index.to_numpy()
    cand = nt.alive() & isin(p["hh"].to_numpy(), alone) & (age >= 18)
    rows = nt.pick(cand, max(1, k // 2))
    if rows.size:
        gone = p["hh"].to_numpy()[rows]
        others = h[~isin(h["hh"].to_numpy(), gone)]
        target = others.iloc[rng.integers(0, len(others), rows.size)]
        p.loc[p.index[rows], "hh"] = target["hh"].to_numpy()
        p.loc[p.index[rows], "household_id"] = target["household_id"].to_numpy()
        p.loc[p.index[rows], "role"] = "OTHER"
        p.loc[p.index[rows], "relation"] = "OTHER"
        p.loc[p.index[rows], "commune"] = target["commune"].to_numpy()
        p.loc[p.index[rows], "m_commune"] = target["commune"].to_numpy()
        ids = h["household_id"].to_numpy()[isin(h["hh"].to_numpy(), gone)]
        nt.households = h[~isin(h["hh"].to_numpy(), gone)]
        nt.touch("population.household", ids)
        nt.cit.append(rows)


def master_corrections(nt: Night) -> None:
    """Stewards fill missing master fields; a few citizens without any record are removed."""
    if not nt.up("population"):
        return
    p = nt.people
    k = nt.budget(int(p["in_master"].sum()), 0.05)
    miss = p[["m_sex", "m_eth", "m_bstr"]].isna().any(axis=1).to_numpy() & p["in_master"].to_numpy()
    rows = nt.pick(miss, k)
    male = p["male"].to_numpy()[rows].astype(bool)
    p.loc[p.index[rows], "m_sex"] = np.where(male, "M", "F")
    p.loc[p.index[rows], "m_eth"] = p["m_eth"].iloc[rows].fillna("Kinh").to_numpy()
    p.loc[p.index[rows], "m_bstr"] = p["bstr"].to_numpy()[rows]
    nt.cit.append(rows)
    # removals: living non-heads with no sector record and no children in the master
    used = np.concatenate([f["pi"].to_numpy() for f in nt.frames.values()] + [p["father"], p["mother"]])
    cand = nt.alive() & (p["relation"].to_numpy() != "HEAD") & ~np.isin(np.arange(len(p)), used)
    rows = nt.pick(cand, nt.budget(int(p["in_master"].sum()), 0.002))
    p.loc[p.index[rows], "in_master"] = False
    nt.cit.append(rows)


# -------------------------------------------------------------------------------------- sector records
def corrections(nt: Night, src: str) -> None:
    """Stewards' corrections of earlier findings: IDs filled, names, dates, sex, communes fixed, duplicates
    deleted; per source: entries digitised, deceased beneficiaries stopped, child records reviewed."""
    f = nt.frames[src]
    p = nt.people
    pi = f["pi"].to_numpy()
    in_m = p["in_master"].to_numpy()[pi]
    kind = f["id_kind"].to_numpy()
    attr = f["attr"].to_numpy()
    ops: dict[str, np.ndarray] = {
        "id": in_m & isin(kind, ["missing", "garbage", "lost", "legacy", "unk12", "unk9"]) & (attr != "paper"),
        "name": isin(attr, ["typo", "unacc", "name_null"]),
        "dob": isin(attr, ["dobwrong", "dob_null", "date_invalid"]),
        "sex": isin(attr, ["sexwrong", "sex_null"]),
        "dup": f["dup_of"].to_numpy() >= 0,
    }
    if src in TWO_COLUMN:
        ops["commune"] = f["ckind"].to_numpy() != "ok"
    if src == "civil":
        ops["digitise"] = (f["status"].to_numpy() == "DA_NHAP") & ~f["paper"].to_numpy().astype(bool)
        ops["noi"] = isin(f["noi_kind"].to_numpy(), ["unknown", "missing"])
    if src == "social":
        ops["stop"] = f["active"].to_numpy().astype(bool) & isin(p["status"].to_numpy()[pi], ["DECEASED", "RENOUNCED"])
    if src == "children":
        ops["deceased"] = p["status"].to_numpy()[pi] == "DECEASED"
        ops["review"] = isin(f["review_kind"].to_numpy(), ["stale", "never"])
    k = max(1, nt.budget(len(f), 0.3) // len(ops))
    chosen = {op: f.index[nt.pick(m, k)].to_numpy() for op, m in ops.items()}
    taken = np.zeros(0, dtype=object)
    for op in chosen:  # one correction per record tonight
        chosen[op] = chosen[op][~isin(chosen[op], taken)] if taken.size else chosen[op]
        taken = np.concatenate([taken, chosen[op].astype(object)])
    r = chosen["id"]
    pid = p["pid"].to_numpy()[f.loc[r, "pi"].to_numpy()] if r.size else np.array([], dtype=object)
    f.loc[r, "id_kind"], f.loc[r, "id_text"], f.loc[r, "id12"] = "pid", pid, pid
    _render(nt, src, r, ("id",))
    r = chosen["name"]
    f.loc[r, "attr"] = "none"
    f.loc[r, "name_text"] = p["name"].to_numpy()[f.loc[r, "pi"].to_numpy()]
    _render(nt, src, r, ("name",))
    r = chosen["dob"]
    f.loc[r, "attr"], f.loc[r, "dob_state"] = "none", "ok"
    f.loc[r, "dob"] = _true_dob(nt, f.loc[r, "pi"].to_numpy())
    _render(nt, src, r, ("dob",))
    r = chosen["sex"]
    f.loc[r, "attr"] = "none"
    f.loc[r, "sex"] = np.where(p["male"].to_numpy()[f.loc[r, "pi"].to_numpy()].astype(bool), "M", "F")
    _render(nt, src, r, ("sex",))
    if "commune" in chosen:
        r = chosen["commune"]
        f.loc[r, "ckind"] = "ok"
        f.loc[r, "cur"] = p["commune"].to_numpy()[f.loc[r, "pi"].to_numpy()]
        _render(nt, src, r, ("cur",))
    t = nt.tables[f"{src}.{RECORDS[src]}"]
    if "digitise" in chosen:
        r = chosen["digitise"]
        f.loc[r, "status"] = "DA_SO_HOA"
        t.loc[r.astype("int64"), "trang_thai_so_hoa"] = "DA_SO_HOA"
        nt.touch("civil.ho_tich", r.astype("int64"))
        r = chosen["noi"]
        f.loc[r, "noi_kind"] = "ok"
        f.loc[r, "noi"] = _reg_commune(nt.ctx(), f.loc[r, "pi"].to_numpy(), f.loc[r, "reg"].to_numpy().astype("int64"))
        _render(nt, src, r, ("cur",))
    if "stop" in chosen:
        r = chosen["stop"]
        f.loc[r, "active"] = False
        t.loc[r.astype("int64"), "STATUS"] = "STOPPED"
        nt.touch("social.BENEFICIARY", r.astype("int64"))
    if "review" in chosen:
        r = chosen["review"]
        f.loc[r, "review_kind"], f.loc[r, "review"] = "ok", nt.yd
        t.loc[r, "ngay_ra_soat"] = iso(np.full(r.size, nt.yd))
        nt.touch("children.tre_em", r)
        _drop_records(nt, src, chosen["deceased"])
    _drop_records(nt, src, chosen["dup"])


def new_defects(nt: Night, src: str) -> None:
    """New defects on clean records: an ID cleared, a name typed without accents, an unknown commune."""
    if nt.clean:
        return
    f = nt.frames[src]
    ok = (f["attr"].to_numpy() == "none") & (f["dup_of"].to_numpy() < 0)
    k = nt.budget(len(f), 0.1)
    r = f.index[nt.pick(ok & (f["id_kind"].to_numpy() == "pid"), max(1, k // 3))].to_numpy()
    f.loc[r, "id_kind"], f.loc[r, "id_text"], f.loc[r, "id12"] = "missing", None, None
    _render(nt, src, r, ("id",))
    r = f.index[nt.pick(ok & f["name_text"].notna().to_numpy() & (f["id_kind"].to_numpy() == "pid"), max(1, k // 3))]
    r = r.to_numpy()
    f.loc[r, "attr"] = "unacc"
    f.loc[r, "name_text"] = map_unique(f.loc[r, "name_text"], strip_accents).to_numpy()
    _render(nt, src, r, ("name",))
    not_cur, not_old = unknown_codes(nt.geo)
    if src in TWO_COLUMN:
        r = f.index[nt.pick(f["ckind"].to_numpy() == "ok", max(1, k // 3))].to_numpy()
        f.loc[r, "ckind"] = "unknown_cur"
        f.loc[r, "cur"] = nt.rng.choice(not_cur, r.size)
        _render(nt, src, r, ("cur",))
    else:
        ok_noi = (f["noi_kind"].to_numpy() == "ok") & ~f["paper"].to_numpy().astype(bool)
        r = f.index[nt.pick(ok_noi & (f["reg"].to_numpy() >= day(dt.date(2025, 7, 1))), max(1, k // 3))].to_numpy()
        f.loc[r, "noi_kind"] = "unknown"
        f.loc[r, "noi"] = nt.rng.choice(not_cur, r.size)
        _render(nt, src, r, ("cur",))


def new_records(nt: Night, src: str) -> None:
    """New sector records of master people the source did not have yet (drawn with the usual defects)."""
    f = nt.frames[src]
    p = nt.people
    has = np.zeros(len(p), bool)
    has[f["pi"].to_numpy()] = True
    age = nt.age()
    k = nt.budget(len(f), 0.05)
    if src == "children":
        from .util import age_at

        young = age_at(p["birth"].to_numpy(), nt.as_of) < 16
        pis = nt.pick(nt.alive() & ~has & young & (p["prec"].to_numpy() == "D") & (p["due_child"].to_numpy() < 0), k)
        _child_records(nt, pis)
        return
    if src == "civil":
        return  # civil entries arrive with births and deaths
    ctx, rng = nt.ctx(), nt.rng
    pis = nt.pick(nt.alive() & ~has & (age >= (16 if src == "social" else 1)), k)
    n = pis.size
    if n == 0:
        return
    kw = {"date_invalid": False} if src == "social" else {}
    new = base_records(ctx, pis, np.full(n, nt.yd), src, clean=nt.clean, **kw)
    new["dup_of"] = -1
    new["source"] = src
    if src == "vaccination":
        t = nt.tables["vaccination.doi_tuong"]
        ids = _next_ids(t.index, n, "DT", 9)
        new["rid"] = ids
        new["rec"] = -1
        new["dose_before_birth"] = False
        new["min_dose"] = nt.yd
        new.index = pd.Index(ids, name="_key")
        nt.frames[src] = _append(f, new)
        phone = pd.Series("09", index=range(n)) + digits(rng, n, 8)
        rows = pd.DataFrame(
            {
                "ma_doi_tuong": ids,
                "ho_ten": new["name_text"].to_numpy(),
                "ngay_sinh": birth_text(ctx, new, "dmy"),
                "gioi_tinh": new["sex"].map(SEX_VI).to_numpy(),
                "so_giay_to": new["id_text"].to_numpy(),
                "dien_thoai": phone.to_numpy(),
                "ma_xa": new["cur"].to_numpy(),
                "ma_xa_cu": new["old"].to_numpy(),
                "ngay_cap_nhat": None,
            },
            index=pd.Index(ids, name="_key"),
        )
        nt.tables["vaccination.doi_tuong"] = _append(t, rows)
        nt.touch("vaccination.doi_tuong", ids)
        _doses(nt, ids, "COVID-19", 1)
        return
    t = nt.tables["social.BENEFICIARY"]
    ids = _next_ids(t.index, n)
    cat = np.where(age[pis] >= 80, "NCT80", "KT").astype(object)
    amount = np.where(cat == "NCT80", 500_000, 750_000)
    method = np.where(rng.random(n) < 0.53, "ACCOUNT", "CASH").astype(object)
    bank = np.where(method == "ACCOUNT", rng.choice(["1", "2", "7", "8"], n) + digits(rng, n, 11), None)
    new = new.assign(
        rid=ids.astype(str), bid=ids, category=cat, active=True, max_paid=-1, bank_missing=False, amount=amount
    )
    new["method"], new["bank"], new["order"] = method, bank, -1
    new.index = pd.Index(ids.astype(str), name="_key")
    nt.frames[src] = _append(f, new)
    dob = new["dob"].to_numpy().astype("int64").astype("datetime64[D]").astype("datetime64[s]")
    rows = pd.DataFrame(
        {
            "BENEFICIARY_ID": ids,
            "FULL_NAME": new["name_text"].to_numpy(),
            "DOB": pd.Series(dob).where(new["dob_state"].to_numpy() == "ok").to_numpy(),
            "GENDER": new["sex"].map({"M": 1, "F": 2}).astype("Int64").to_numpy(),
            "ID_NUMBER": new["id_text"].to_numpy(),
            "CATEGORY": cat,
            "COMMUNE_CODE": new["cur"].to_numpy(),
            "COMMUNE_CODE_OLD": new["old"].to_numpy(),
            "PAY_METHOD": method,
            "BANK_ACCOUNT": bank,
            "MONTHLY_AMOUNT": amount,
            "STATUS": "ACTIVE",
            "UPDATED_AT": pd.NaT,
        },
        index=pd.Index(ids, name="_key"),
    )
    nt.tables["social.BENEFICIARY"] = _append(t, rows)
    nt.touch("social.BENEFICIARY", ids)


def _doses(nt: Night, rids: np.ndarray, code: str, dose: int) -> None:
    """New dose rows given yesterday to the subjects `rids`."""
    k = len(rids)
    if k == 0:
        return
    t = nt.tables["vaccination.mui_tiem"]
    ids = _next_ids(t.index, k, "MT", 10)
    com = nt.frames["vaccination"].loc[rids, "cur"].map(nt.geo.names).fillna("xã").to_numpy()
    rows = pd.DataFrame(
        {
            "ma_mui": ids,
            "ma_doi_tuong": rids,
            "ma_vac_xin": code,
            "mui_thu": np.full(k, dose, dtype="int64"),
            "ngay_tiem": dmy(np.full(k, nt.yd)).to_numpy(),
            "co_so_tiem": ("Trạm Y tế " + pd.Series(com, dtype=object)).to_numpy(),
            "_day": np.full(k, nt.yd, dtype="int64"),
        },
        index=pd.Index(ids, name="_key"),
    )
    nt.tables["vaccination.mui_tiem"] = _append(t, rows)
    nt.touch("vaccination.mui_tiem", ids)


def everyday_edits(nt: Night, src: str) -> None:
    """Edits that change no finding: phone numbers, amounts, parents' names retyped, circumstances, addresses;
    and the tables without an update column: doses, vaccine passports, payments (new, changed, deleted)."""
    rng = nt.rng
    t = nt.tables[f"{src}.{RECORDS[src]}"]
    k = nt.budget(len(t), 0.5)
    rows = t.index[nt.pick(np.ones(len(t), bool), k)]
    if src == "vaccination":
        t.loc[rows, "dien_thoai"] = "09" + digits(rng, len(rows), 8)
        nt.touch("vaccination.doi_tuong", rows.to_numpy())
        _vaccination_side_tables(nt)
    elif src == "social":
        t.loc[rows, "MONTHLY_AMOUNT"] = t.loc[rows, "MONTHLY_AMOUNT"].to_numpy() + 50_000
        nt.frames["social"].loc[rows.astype(str), "amount"] = t.loc[rows, "MONTHLY_AMOUNT"].to_numpy()
        nt.touch("social.BENEFICIARY", rows.to_numpy())
        _payments(nt)
    elif src == "civil":
        ks = t.loc[rows]
        rows = ks.index[ks["ho_ten_me"].notna().to_numpy()]
        t.loc[rows, "ho_ten_me"] = t.loc[rows, "ho_ten_me"].astype(str).str.normalize("NFC").str.upper().to_numpy()
        nt.touch("civil.ho_tich", rows.to_numpy())
    elif src == "children":
        t.loc[rows, "hoan_canh"] = np.where(t.loc[rows, "hoan_canh"] == "DAC_BIET", "BINH_THUONG", "DAC_BIET")
        nt.touch("children.tre_em", rows.to_numpy())


def _vaccination_side_tables(nt: Night) -> None:
    rng = nt.rng
    mt = nt.tables["vaccination.mui_tiem"]
    k = nt.budget(len(mt), 0.5)
    rows = mt.index[nt.pick(np.ones(len(mt), bool), k)]
    codes = nt.geo.current["commune_code"].to_numpy()
    names = pd.Series(codes[rng.integers(0, len(codes), len(rows))]).map(nt.geo.names).fillna("xã")
    mt.loc[rows, "co_so_tiem"] = ("Trạm Y tế " + names).to_numpy()
    nt.touch("vaccination.mui_tiem", rows.to_numpy())
    nt.tables["vaccination.mui_tiem"] = mt.drop(index=mt.index[nt.pick(np.ones(len(mt), bool), max(1, k // 4))])
    nt.touch("vaccination.mui_tiem", mt.index.difference(nt.tables["vaccination.mui_tiem"].index).to_numpy())
    f = nt.frames["vaccination"]
    alive = nt.alive()[f["pi"].to_numpy()] & (f["dup_of"].to_numpy() < 0)
    _doses(nt, f.index[nt.pick(alive, max(1, k // 2))].to_numpy(), "CUM", 1)
    # vaccine passports: new ones for second COVID-19 doses without one, some dates changed, some withdrawn
    hc = nt.tables["vaccination.ho_chieu_vac_xin"]
    mt = nt.tables["vaccination.mui_tiem"]
    second = mt[(mt["ma_vac_xin"] == "COVID-19") & (mt["mui_thu"] == 2)]["ma_doi_tuong"].unique()
    want = pd.Index(second).difference(pd.Index(hc["ma_doi_tuong"].unique())).to_numpy()
    kh = nt.budget(len(hc), 0.3)
    new_for = want[nt.pick(np.ones(want.size, bool), max(1, kh // 2))] if want.size else want
    upd = hc.index[nt.pick(np.ones(len(hc), bool), max(1, kh // 4))]
    hc.loc[upd, "ngay_ky"] = iso(np.full(len(upd), nt.yd))
    gone = hc.index[nt.pick(~hc.index.isin(upd), max(1, kh // 4))]
    hc = hc.drop(index=gone)
    start = int(nt.tables["vaccination.ho_chieu_vac_xin"].index.max()) + 1 if len(hc) else 0
    ids = np.arange(start, start + new_for.size)
    new = pd.DataFrame(
        {"ma_doi_tuong": new_for, "ngay_ky": iso(np.full(new_for.size, nt.yd))}, index=pd.Index(ids, name="_row")
    )
    nt.tables["vaccination.ho_chieu_vac_xin"] = _append(hc, new)
    nt.touch("vaccination.ho_chieu_vac_xin", np.concatenate([upd.to_numpy(), gone.to_numpy(), ids]))


def _payments(nt: Night) -> None:
    """Payments: the month's payment on the 10th for every ACTIVE beneficiary, else late payments; some
    amounts corrected and some payments reversed."""
    pay = nt.tables["social.PAYMENT"]
    ben = nt.tables["social.BENEFICIARY"]
    y, m, d = ymd(np.array([nt.yd]))
    period = f"{y[0]}{m[0]:02d}"
    active = ben[ben["STATUS"] == "ACTIVE"]
    paid = pay.loc[pay["PERIOD"] == period, "BENEFICIARY_ID"].to_numpy()
    due = active[~isin(active["BENEFICIARY_ID"].to_numpy(), paid)]
    k = nt.budget(len(pay), 0.3)
    if d[0] != 10:
        due = due.iloc[nt.pick(np.ones(len(due), bool), max(1, k // 2))]
    ids = _next_ids(pay.index, len(due))
    new = pd.DataFrame(
        {
            "PAYMENT_ID": ids,
            "BENEFICIARY_ID": due["BENEFICIARY_ID"].to_numpy(),
            "PERIOD": period,
            "AMOUNT": due["MONTHLY_AMOUNT"].to_numpy(),
            "METHOD": due["PAY_METHOD"].to_numpy(),
            "PAID_AT": np.full(len(due), nt.yd).astype("datetime64[D]").astype(pay["PAID_AT"].dtype),
        },
        index=pd.Index(ids, name="_key"),
    )
    upd = pay.index[nt.pick(np.ones(len(pay), bool), max(1, k // 4))]
    pay.loc[upd, "AMOUNT"] = pay.loc[upd, "AMOUNT"].to_numpy() + 50_000
    gone = pay.index[nt.pick(~pay.index.isin(upd), max(1, k // 4))]
    nt.tables["social.PAYMENT"] = _append(pay.drop(index=gone), new)
    nt.touch("social.PAYMENT", np.concatenate([upd.to_numpy(), gone.to_numpy(), ids]))


# ------------------------------------------------------------------------------------------------ closing
def _sync_derived(nt: Night) -> None:
    """Semantic facts that follow from the side tables: each subject's first dose, each beneficiary's last
    payment, and whether a beneficiary is ACTIVE."""
    mt = nt.tables["vaccination.mui_tiem"]
    first = mt.groupby("ma_doi_tuong")["_day"].min()
    f = nt.frames["vaccination"]
    f["min_dose"] = first.reindex(f.index).fillna(10**9).to_numpy().astype("int64")
    pay = nt.tables["social.PAYMENT"]
    last = (
        pd.Series(pay["PAID_AT"].to_numpy().astype("datetime64[D]").astype("int64"))
        .groupby(pay["BENEFICIARY_ID"].to_numpy())
        .max()
    )
    f = nt.frames["social"]
    f["max_paid"] = last.reindex(f["bid"].to_numpy().astype("int64")).fillna(-1).to_numpy().astype("int64")


def _close_master(nt: Night) -> None:
    """Re-render the touched citizens and households, stamped."""
    p = nt.people
    rows = np.unique(np.concatenate([np.asarray(r, dtype="int64") for r in nt.cit] or [np.zeros(0, "int64")]))
    if rows.size:
        p.loc[p.index[rows], "updated"] = _stamps(nt, rows.size)
    cit = nt.tables["population.citizen"]
    keep = rows[p["in_master"].to_numpy()[rows]]
    gone = p["pid"].to_numpy()[rows[~p["in_master"].to_numpy()[rows]]]
    new = citizen_rows(p, keep)
    cit = cit.drop(index=cit.index.intersection(pd.Index(gone)))
    cit = cit.drop(index=cit.index.intersection(new.index))
    nt.tables["population.citizen"] = _append(cit, new) if len(cit) else new
    nt.touch("population.citizen", np.concatenate([new.index.to_numpy(), gone]))
    h = nt.households
    ids = np.concatenate(nt.touched.get("population.household", [np.zeros(0, dtype=object)]))
    sel = isin(h["household_id"].to_numpy(), ids)
    h.loc[sel, "updated"] = _stamps(nt, int(sel.sum()))
    ht = nt.tables["population.household"]
    rows = pd.DataFrame(
        {
            "household_id": h["household_id"].to_numpy()[sel],
            "commune_code": h["commune"].to_numpy()[sel],
            "address_line": h["address_line"].to_numpy()[sel],
            "updated_at": h["updated"].to_numpy()[sel].astype("int64").astype("datetime64[s]"),
        },
        index=pd.Index(h["household_id"].to_numpy()[sel], name="_key"),
    )
    ht = ht.drop(index=ht.index.intersection(pd.Index(ids)))
    nt.tables["population.household"] = _append(ht, rows)


def _stamp_sectors(nt: Night) -> None:
    """The update column of every inserted or changed sector record: a time yesterday (and in the frame)."""
    for src, table in RECORDS.items():
        name = f"{src}.{table}"
        col, kind = UPDATED[name]
        t = nt.tables[name]
        keys = nt.touched.get(name)
        if not keys:
            continue
        present = t.index.intersection(pd.Index(np.concatenate(keys)))
        secs = _stamps(nt, len(present))
        t.loc[present, col] = secs.astype("datetime64[s]") if kind == "ts" else ts_text(secs)
        nt.frames[src].loc[present.astype(str), "updated"] = secs


def _changes(old: pd.DataFrame | pd.Index, new: pd.DataFrame, touched: list) -> dict[str, pd.Index]:
    """Inserted, updated (touched, in both) and deleted keys of one table."""
    if not touched:
        e = pd.Index([])
        return {"inserted": e, "updated": e, "deleted": e}
    k = pd.Index(pd.unique(np.concatenate(touched)))
    old = old if isinstance(old, pd.Index) else old.index
    if old.dtype.kind in "iu":
        k = k.astype("int64")
    in_old, in_new = old.get_indexer(k) >= 0, new.index.get_indexer(k) >= 0
    ins, dele, both = k[~in_old & in_new], k[in_old & ~in_new], k[in_old & in_new]
    return {"inserted": ins, "updated": both, "deleted": dele}


def _where_rows(old: pd.DataFrame | pd.Index, key: str | None, keys: pd.Index) -> pd.DataFrame:
    """The values that address rows in a WHERE clause: the key, or (no key) the old row's every value."""
    if key is None:
        return old.loc[keys]
    return pd.DataFrame({key: keys.to_numpy()})


def _apply_keyless(conn, table, q: str, prep, ph: str, old: pd.DataFrame, new: pd.DataFrame, ch: dict, values) -> None:
    """A table without a key: the old rows of deleted and changed rows go (matched through an indexed temporary
    table, so the table is scanned once), then the new rows of changed and inserted ones are inserted."""
    cols = [c.name for c in table.columns]
    quoted = [prep.quote(c) for c in cols]
    gone = old.loc[ch["deleted"].append(ch["updated"])]
    if len(gone):
        types = ", ".join(f"{qc} {c.type.compile(conn.dialect)}" for qc, c in zip(quoted, table.columns, strict=True))
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE _sim_gone ({types})")
        conn.exec_driver_sql(f"CREATE INDEX _sim_gone_idx ON _sim_gone ({', '.join(quoted)})")
        conn.exec_driver_sql(
            f"INSERT INTO _sim_gone ({', '.join(quoted)}) VALUES ({', '.join([ph] * len(cols))})", values(gone, cols)
        )
        match = " AND ".join(f"g.{c} = {q}.{c}" for c in quoted)
        conn.exec_driver_sql(f"DELETE FROM {q} WHERE EXISTS (SELECT 1 FROM _sim_gone g WHERE {match})")
        conn.exec_driver_sql("DROP TABLE _sim_gone")
    add = new.loc[ch["updated"].append(ch["inserted"])]
    if len(add):
        ins = f"INSERT INTO {q} ({', '.join(quoted)}) VALUES ({', '.join([ph] * len(cols))})"
        conn.exec_driver_sql(ins, values(add, cols))


def _apply(url: str, src: str, old: dict, new: dict, changes: dict) -> None:
    """Write one source's changes: DELETE, UPDATE and INSERT in batches (executemany)."""
    from .schema import _column_values

    m = metadata(src)
    eng = make_engine(url)
    sqlite = eng.dialect.name == "sqlite"
    prep = eng.dialect.identifier_preparer
    ph = "?" if eng.dialect.paramstyle == "qmark" else "%s"
    try:
        with eng.begin() as conn:
            for tname, table in m.tables.items():
                name = f"{src}.{tname}"
                ch = changes[name]
                key = KEYS[name]
                cols = [c.name for c in table.columns]
                q = prep.format_table(table)

                def values(df: pd.DataFrame, cs: list[str], table=table) -> list[tuple]:
                    return list(zip(*[_column_values(df[c], table.c[c], sqlite) for c in cs], strict=True))

                if key is None:  # no key: rows are addressed by all their values, set-based (one scan)
                    _apply_keyless(conn, table, q, prep, ph, old[name], new[name], ch, values)
                    continue
                where_cols = [key]
                where = " AND ".join(f"{prep.quote(c)} = {ph}" for c in where_cols)
                if len(ch["deleted"]):
                    conn.exec_driver_sql(
                        f"DELETE FROM {q} WHERE {where}", values(_where_rows(old[name], key, ch["deleted"]), where_cols)
                    )
                if len(ch["updated"]):
                    set_cols = [c for c in cols if c != key]
                    sets = ", ".join(f"{prep.quote(c)} = {ph}" for c in set_cols)
                    a = values(new[name].loc[ch["updated"]], set_cols)
                    w = values(_where_rows(old[name], key, ch["updated"]), where_cols)
                    conn.exec_driver_sql(
                        f"UPDATE {q} SET {sets} WHERE {where}", [x + y for x, y in zip(a, w, strict=True)]
                    )
                if len(ch["inserted"]):
                    names = ", ".join(prep.quote(c) for c in cols)
                    ins = f"INSERT INTO {q} ({names}) VALUES ({', '.join([ph] * len(cols))})"
                    conn.exec_driver_sql(ins, values(new[name].loc[ch["inserted"]], cols))
    finally:
        eng.dispose()


def _effective(f: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """The frame as the truth reads it tonight: a record's own 12-digit ID is unknown while the master does not
    hold its person (a newborn), and its link class follows from who the master holds."""
    pi = f["pi"].to_numpy()
    in_m = people["in_master"].to_numpy()[pi]
    kind = f["id_kind"].to_numpy()
    kind = np.where(~in_m & isin(kind, ["pid", "lost"]), "unk12", kind)
    link = np.where(
        ~in_m,
        "none",
        np.where(isin(kind, ["pid", "lost"]), "personal_id", np.where(kind == "legacy", "legacy_id", "probabilistic")),
    )
    return f.assign(id_kind=kind, link_class=link, in_master=in_m).reset_index(drop=True)


def night_truth(people, households, frames: dict, geo: Geo, as_of: dt.date) -> pd.DataFrame:
    """The ground truth of a night from the kept semantic state (same columns as `simulate`'s)."""
    parts, linked = [], {}
    for s in SECTORS:
        t, lk = sector_truth(s, _effective(frames[s], people), people, 0, geo, as_of)
        parts.append(t)
        linked.update(lk)
    return pd.concat([population_truth(people, households, 0, geo, as_of, linked)] + parts, ignore_index=True)


class _Clock:
    """Wall seconds per phase of a night (for the benchmark)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._t, 2)
        self._t = now


def advance(
    urls: dict[str, str] | None = None,
    truth_path: str | Path | None = None,
    as_of: dt.date | None = None,
    *,
    stale: tuple[str, ...] | list[str] = (),
    down: tuple[str, ...] | list[str] = (),
    rate: float = 0.01,
    seed: int | None = None,
) -> dict:
    """Move the sources from the kept night to `as_of` (default the next night); return the night's changes.

    `stale`: sources that get no change tonight (their newest update stays old). `down`: sources unreachable
    tonight (no change, and their SQLite file renamed to `<file>.down` until the next advance).
    """
    from .core import DEFAULT_TRUTH, write_truth

    tp = Path(truth_path or DEFAULT_TRUTH)
    meta = load_meta(tp)
    urls = {**default_urls(), **(urls or {})}
    sd = state_dir(tp)
    last = dt.date.fromisoformat(meta["as_of"])
    as_of = as_of or last + dt.timedelta(days=1)
    if as_of <= last:
        raise StateError(f"--as-of {as_of} is not after the kept night {last}")
    bad = sorted((set(stale) | set(down)) - set(SOURCES))
    if bad:
        raise StateError(f"unknown source {bad[0]!r}; one of {', '.join(SOURCES)}")
    for s in down:
        if _sqlite_file(urls[s]) is None:
            raise StateError(f"--down {s}: only a SQLite source can be taken down by the simulator (rename its file)")
    for s in meta["down"]:  # yesterday's outage is over
        fp = _sqlite_file(urls[s])
        if fp is not None and Path(f"{fp}.down").exists() and not fp.exists():
            os.replace(f"{fp}.down", fp)
    seed = meta["seed"] if seed is None else seed
    rng = np.random.default_rng([seed, day(as_of), 0x5EED])
    clock = _Clock()
    people = _objects(pd.read_parquet(sd / "people.parquet"))
    households = _objects(pd.read_parquet(sd / "households.parquet"))
    frames = {s: _objects(pd.read_parquet(sd / f"frame_{s}.parquet")) for s in SECTORS}
    old = {name: _objects(pd.read_parquet(_table_path(sd, name)), columns=False) for name in KEYS}
    nt = Night(
        rng=rng,
        as_of=as_of,
        rate=rate,
        geo=load_geo(meta["province"]),
        meta=meta,
        people=people,
        households=households,
        frames=frames,
        tables=old,
        frozen=set(stale) | set(down),
    )
    old = {k: (v.copy() if KEYS[k] is None else v.index.copy()) for k, v in old.items()}  # what the DBs hold
    clock.lap("load")
    deaths(nt)
    births(nt)
    moves(nt)
    households_split_merge(nt)
    master_corrections(nt)
    for s in SECTORS:
        if nt.up(s):
            corrections(nt, s)
            new_defects(nt, s)
            new_records(nt, s)
            everyday_edits(nt, s)
    _sync_derived(nt)
    _close_master(nt)
    _stamp_sectors(nt)
    changes = {name: _changes(old[name], nt.tables[name], nt.touched.get(name, [])) for name in KEYS}
    clock.lap("changes")
    for s in SOURCES:
        if nt.up(s):
            _apply(urls[s], s, old, nt.tables, {n: c for n, c in changes.items() if n.startswith(s + ".")})
    for s in down:
        fp = _sqlite_file(urls[s])
        if fp is not None and fp.exists():
            os.replace(fp, f"{fp}.down")
    clock.lap("databases")
    truth = night_truth(nt.people, nt.households, nt.frames, nt.geo, as_of)
    clock.lap("truth")
    meta = dict(meta)
    meta["as_of"] = as_of.isoformat()
    meta["nights"] = [*meta["nights"], as_of.isoformat()]
    meta["down"] = sorted(down)
    meta["last_good"] = {s: (meta["last_good"][s] if s in down else as_of.isoformat()) for s in SOURCES}
    counts = {n: {k: int(len(v)) for k, v in c.items()} for n, c in changes.items()}
    night_meta = {
        "scenario": meta["scenario"],
        "seed": seed,
        "as_of": as_of.isoformat(),
        "previous_as_of": last.isoformat(),
        "province": meta["province"],
        "stale": sorted(stale),
        "down": sorted(down),
        "source_state_as_of": meta["last_good"],
        "changes": counts,
        "row_counts": {n: int(len(t)) for n, t in nt.tables.items()},
    }
    up = [s for s in SOURCES if nt.up(s)]  # a source that did not change keeps its files
    _write_state(
        sd,
        meta,
        nt.people,
        nt.households,
        {s: f for s, f in nt.frames.items() if s in up},
        {n: t for n, t in nt.tables.items() if n.split(".")[0] in up},
    )
    clock.lap("state")
    night_meta["seconds"] = clock.laps
    write_truth(tp, truth, night_meta, as_of)
    return night_meta
