"""Name density of a simulated master: how many people share a name with someone else (no night needed).

    python bench/linkage_density.py --scenario province

Prints, for the master persons of the scenario: the share sharing accent-free name + birth year with someone
else, the share sharing accent-free name + full birth date + sex, and the same per commune.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 25)


def density(people) -> dict[str, float]:
    """Shares of master persons that share (name, birth year) / (name, birth date, sex) with someone else."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("p", people)
        row = con.execute(
            """
            with t as (
                select strip_accents(replace(replace(lower(name), 'đ', 'd'), 'Đ', 'd')) as name_unaccented,
                       birth, year(date '1970-01-01' + birth::int) as birth_year, male, commune
                from p
            ),
            w as (
                select
                    count(*) over (partition by name_unaccented, birth_year) > 1 as name_year,
                    count(*) over (partition by name_unaccented, birth, male) > 1 as name_date_sex,
                    count(*) over (partition by name_unaccented, birth_year, commune) > 1 as name_year_commune,
                    count(*) over (partition by name_unaccented, birth, male, commune) > 1 as name_date_sex_commune,
                    commune
                from t
            )
            select
                count(*),
                avg(name_year::int),
                avg(name_date_sex::int),
                avg(name_year_commune::int),
                avg(name_date_sex_commune::int),
                count(distinct commune)
            from w
            """
        ).fetchone()
    finally:
        con.close()
    keys = (
        "persons",
        "share_name_year",
        "share_name_date_sex",
        "share_name_year_commune",
        "share_name_date_sex_commune",
        "communes",
    )
    out = dict(zip(keys, row, strict=True))
    out["persons_per_commune"] = out["persons"] / out["communes"]
    return out


def population(scenario: str, seed: int = 7, province_code: str = "24"):
    """The simulated people of a scenario (the master's persons), as the simulator builds them."""
    import numpy as np

    from simulator.config import SCENARIOS, load_geo, resolve_rates
    from simulator.population import make_population

    sc = SCENARIOS[scenario]
    geo = load_geo(province_code)
    rates = resolve_rates(None, sc.clean)
    people, _ = make_population(np.random.default_rng(seed), sc.residents, geo, AS_OF, rates, home_communes=sc.communes)
    return people[["name", "birth", "male", "commune"]]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="demo")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    people = population(args.scenario, args.seed)
    print(f"generated in {time.perf_counter() - started:.1f}s")
    for k, v in density(people).items():
        print(f"{k:>26}: {v:,.4f}" if isinstance(v, float) else f"{k:>26}: {v:,}")
