"""simulate(): build a province, write the five source databases and the ground truth."""

from __future__ import annotations

import datetime as dt
import json
import os
import zoneinfo
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

from .config import REFORM_DATE, SCENARIOS, Scenario, load_geo, resolve_rates
from .population import citizen_rows, make_population
from .records import Ctx
from .schema import SOURCES, default_urls, write_source
from .sources import children, civil, social, vaccination
from .truth import headline_figures, population_truth, sector_truth
from .util import iso, ts_text

DEFAULT_TRUTH = "data/sources/ground_truth.parquet"


def default_as_of() -> dt.date:
    """DOISOAT_AS_OF, else today in Asia/Ho_Chi_Minh."""
    env = os.environ.get("DOISOAT_AS_OF")
    if env:
        return dt.date.fromisoformat(env)
    return dt.datetime.now(zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")).date()


def _progress(enabled: bool):
    if not enabled:
        return nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def build(
    scenario: str | Scenario,
    seed: int = 0,
    as_of: dt.date | None = None,
    province_code: str = "24",
    defects: float | dict | None = None,
    seeds_dir: str | Path | None = None,
    step: Callable[[str], None] | None = None,
) -> dict:
    """Generate everything in memory: {'tables': {source: {table: frame}}, 'truth': frame, 'meta': {...}}."""
    step = step or (lambda _msg: None)
    if isinstance(scenario, Scenario):
        sc = scenario
    elif scenario in SCENARIOS:
        sc = SCENARIOS[scenario]
    else:
        raise ValueError(f"unknown scenario {scenario!r}; one of {sorted(SCENARIOS)}")
    as_of = as_of or default_as_of()
    if as_of <= REFORM_DATE:
        raise ValueError("as_of must be after the 2025-07-01 reform (the master carries post-2025 codes)")
    rates = resolve_rates(defects, sc.clean)
    rng = np.random.default_rng(seed)
    geo = load_geo(province_code, Path(seeds_dir) if seeds_dir else None)
    step("population")
    people, households = make_population(rng, sc.residents, geo, as_of, rates, home_communes=sc.communes)
    nm = len(people)
    ctx = Ctx(
        rng=rng,
        geo=geo,
        as_of=as_of,
        rates=rates,
        people=people,
        n_master=nm,
        pid_set=set(people["pid"].to_numpy()),
        legacy_set=set(people["legacy"].dropna().to_numpy()),
        figures=sc.figures,
    )
    clean = sc.clean
    built = {}
    for name, fn in (("vaccination", vaccination), ("social", social), ("civil", civil), ("children", children)):
        step(name)
        built[name] = fn(ctx, clean)
    people = ctx.people
    # the master's tables
    citizen = citizen_rows(people, np.arange(nm)).reset_index(drop=True)
    household = pd.DataFrame(
        {
            "household_id": households["household_id"],
            "commune_code": households["commune"],
            "address_line": households["address_line"],
            "updated_at": pd.Series(households["updated"].to_numpy().astype("datetime64[s]")),
        }
    )
    tables = {"population": {"citizen": citizen, "household": household}}
    for s, b in built.items():
        tables[s] = b["tables"]
    # ground truth
    step("ground truth")
    parts, linked = [], {}
    for s, b in built.items():
        t, lk = sector_truth(s, b["frame"], people, nm, geo, as_of)
        parts.append(t)
        linked.update(lk)
    truth = pd.concat([population_truth(people, households, nm, geo, as_of, linked)] + parts, ignore_index=True)
    meta = {
        "scenario": sc.name,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "province": province_code,
        "rates": rates,
        "row_counts": {f"{s}.{t}": len(df) for s, ts in tables.items() for t, df in ts.items()},
    }
    if sc.figures is not None:
        step("figures")
        meta["figures_target"] = {"residents": sc.residents, **sc.figures.__dict__}
        meta["figures"] = headline_figures(truth, tables)
    state = {"people": people, "households": households, "frames": {s: b["frame"] for s, b in built.items()}}
    return {"tables": tables, "truth": truth, "meta": meta, "state": state, "n_master": nm, "geo": geo}


def simulate(
    scenario: str | Scenario,
    seed: int = 0,
    as_of: dt.date | None = None,
    urls: dict[str, str] | None = None,
    truth_path: str | Path | None = None,
    province_code: str = "24",
    defects: float | dict | None = None,
    progress: bool = False,
) -> dict:
    """Simulate a province into the five source databases and write the ground truth; return row counts."""
    as_of = as_of or default_as_of()
    label = scenario.name if isinstance(scenario, Scenario) else scenario
    urls = {**default_urls(), **(urls or {})}
    with _progress(progress) as prog:
        task = prog.add_task(f"{label}: generating", total=7) if prog else None

        def step(msg: str) -> None:
            if prog:
                prog.update(task, description=f"{label}: {msg}", advance=1)

        b = build(scenario, seed, as_of, province_code, defects, step=step)
        total = sum(b["meta"]["row_counts"].values())
        if prog:
            prog.update(task, description=f"{label}: writing rows", total=total, completed=0)
        counts: dict[str, int] = {}
        for s in SOURCES:
            counts.update(
                write_source(urls[s], s, b["tables"][s], on_rows=(lambda k: prog.advance(task, k)) if prog else None)
            )
    tp = Path(truth_path or DEFAULT_TRUTH)
    _forget_earlier_nights(tp, urls)
    meta = {k: v for k, v in b["meta"].items() if k != "rates"}
    meta["defect_rates"] = b["meta"]["rates"]
    write_truth(tp, b["truth"], meta, as_of)
    from .nights import save_initial_state

    save_initial_state(tp, b, urls, seed=seed, province_code=province_code, as_of=as_of)
    return counts


def _forget_earlier_nights(tp: Path, urls: dict[str, str]) -> None:
    """A fresh simulation starts a new history: earlier nights' truths and any source left down are removed."""
    import shutil

    from .nights import _sqlite_file

    shutil.rmtree(tp.parent / tp.stem, ignore_errors=True)
    for url in urls.values():
        fp = _sqlite_file(url)
        if fp is not None:
            Path(f"{fp}.down").unlink(missing_ok=True)


def write_truth(tp: Path, truth: pd.DataFrame, meta: dict, as_of: dt.date) -> None:
    """The latest night's truth (`tp` and its .json) and the night's own copy under `<tp folder>/<tp stem>/`."""
    tp.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n"
    night = tp.parent / tp.stem
    night.mkdir(parents=True, exist_ok=True)
    for path in (tp, night / f"{as_of.isoformat()}.parquet"):
        truth.to_parquet(path, index=False)
        path.with_suffix(".json").write_text(text, encoding="utf-8")


__all__ = ["simulate", "build", "default_as_of", "iso", "ts_text"]
