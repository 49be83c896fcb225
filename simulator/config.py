"""Scenarios, defect rates and reference data (seeds/) for the simulator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REFORM_DATE = dt.date(2025, 7, 1)
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"


@dataclass(frozen=True)
class Figures:
    """Exact figures a calibrated scenario's ground truth yields (OUTPUTS.md indicators, at province scope).

    Counts are record counts; a `_pct` is the rate of the indicator in percent, met by the exact numerator
    `round(pct / 100 * denominator)` of whatever the denominator turns out to be.
    """

    children_records: int  # children_reviewed denominator
    children_reconciled: int  # children_reviewed numerator
    children_with_id_code: int  # children_with_id_code numerator (of the reconciled)
    passports_signed: int  # vaccine_passports_signed numerator
    vaccination_clean_pct: float  # vaccination_clean rate
    civil_entries: int  # civil_digitised denominator
    civil_digitised_pct: float  # civil_digitised rate
    social_beneficiaries: int  # BENEFICIARY rows
    social_account_payment_pct: float  # social_account_payment rate (of ACTIVE beneficiaries)

    def scaled(self, factor: float) -> Figures:
        """Every count times `factor` (rounded); rates unchanged."""
        counts = {k: int(round(v * factor)) for k, v in self.__dict__.items() if not k.endswith("_pct")}
        rates = {k: v for k, v in self.__dict__.items() if k.endswith("_pct")}
        return Figures(**counts, **rates)


def share(denominator: int, pct: float) -> int:
    """The exact numerator of a rate in percent: round(pct / 100 * denominator)."""
    return int(round(denominator * pct / 100.0))


# DOMAIN.md's table: what one province reported (1,502,499 residents).
PROVINCE_RESIDENTS = 1_502_499
PROVINCE_FIGURES = Figures(
    children_records=325_629,
    children_reconciled=243_975,
    children_with_id_code=197_712,
    passports_signed=1_132_851,
    vaccination_clean_pct=72.4,
    civil_entries=1_311_349,
    civil_digitised_pct=100.0,
    social_beneficiaries=111_367,
    social_account_payment_pct=52.64,
)


@dataclass(frozen=True)
class Scenario:
    """Size of a simulated province; sector sizes follow from the population and the rates below.

    With `figures`, the sector sizes and the headline indicators are calibrated to exact counts instead
    (planted defects stay; see simulator/calibrate.py).
    """

    name: str
    residents: int
    clean: bool = False
    figures: Figures | None = None
    communes: int | None = None  # people live only in the province's first N current communes


def scaled_province(factor: float) -> Scenario:
    """The calibrated province at `factor` times its size (every count scaled and rounded)."""
    return Scenario(
        f"province_x{factor:g}", int(round(PROVINCE_RESIDENTS * factor)), figures=PROVINCE_FIGURES.scaled(factor)
    )


SCENARIOS: dict[str, Scenario] = {
    "tiny": Scenario("tiny", 2_000),
    "tiny_clean": Scenario("tiny_clean", 2_000, clean=True),
    "demo": Scenario("demo", 50_000),
    "province": Scenario("province", PROVINCE_RESIDENTS, figures=PROVINCE_FIGURES),
    # the linkage tests' province: `province`'s people per commune (≈15,000), living in 2 of its 99 communes
    "dense": Scenario("dense", 30_350, communes=2),
}

# Share of the people with doses who are vaccination subjects: natural, and in a calibrated scenario (where
# the signed passports, which need a second COVID-19 dose, must reach their figure).
SUBJECT_SHARE = 0.86
CALIBRATED_SUBJECT_SHARE = 0.99

# Defect rates (the share of eligible records that get the defect). Every key is scaled by the `defects`
# multiplier; a dict passed as `defects` overrides single keys. Harmless quirks are not here: they never
# make a finding and stay on in every scenario.
DEFAULT_RATES: dict[str, float] = {
    # population (citizens / households)
    "household_no_head": 0.02,  # HOUSEHOLD_NO_HEAD (share of households)
    "household_multi_head": 0.02,  # HOUSEHOLD_MULTI_HEAD (share of households with a spouse)
    "legacy_id_malformed": 0.02,  # LEGACY_ID_MALFORMED (share of CMND holders)
    "child_no_residence": 0.02,  # CHILD_NO_RESIDENCE (share of under-16s)
    "citizen_field_missing": 0.01,  # FIELD_MISSING on citizens (per field)
    "citizen_id_conflict": 0.005,  # ID_CONFLICT on citizens
    "death_not_recorded": 0.08,  # DEATH_NOT_RECORDED (share of deaths)
    "child_not_in_registry": 0.03,  # CHILD_NOT_IN_REGISTRY (share of under-16s without a child record)
    "namesake": 0.004,  # pairs of different people with one name and birth date
    "child_deceased_active": 0.004,  # under-16s who died but keep their child record (DECEASED_ACTIVE)
    # sector records: which ID the record carries
    "id_missing": 0.04,  # ID_MISSING (-> probabilistic link)
    "id_garbage": 0.015,  # ID_MALFORMED beyond repair (-> probabilistic link)
    "id_lost_zeros": 0.02,  # ID_MALFORMED repaired (social: much more, see social_lost_zeros)
    "social_lost_zeros": 0.12,
    "id_legacy": 0.05,  # LEGACY_ID_ONLY (adults with a CMND)
    "id_unknown": 0.015,  # ID_UNKNOWN: a mistyped 12- or 9-digit ID of a master person
    "not_in_master": 0.015,  # records of people the master does not have (NOT_LINKED, link none)
    "civil_pre2016_no_id": 0.85,  # civil entries registered before 2016 without so_dinh_danh
    "children_no_id": 0.10,  # child records whose ma_dinh_danh is still empty
    # sector records: attributes
    "name_typo": 0.02,  # NAME_MISMATCH
    "name_unaccented": 0.02,  # NAME_UNACCENTED (social: social_unaccented)
    "social_unaccented": 0.15,
    "birth_date_wrong": 0.02,  # BIRTH_DATE_MISMATCH
    "sex_wrong": 0.015,  # SEX_MISMATCH (+ ID_CONFLICT when a 12-digit ID is there)
    "field_missing": 0.02,  # FIELD_MISSING (name, birth date or sex empty; bank account)
    "date_invalid": 0.015,  # DATE_INVALID (garbage or future text date)
    "dose_before_birth": 0.01,  # DATE_INVALID (vaccination dose before birth)
    "duplicate": 0.015,  # DUPLICATE (a second record of the same person)
    "moved": 0.03,  # RESIDENCE_MISMATCH
    "mover_stale": 0.75,  # share of a mover's sector records still at the commune left (moved / this = movers)
    "commune_outdated": 0.08,  # COMMUNE_OUTDATED (current column never filled)
    "commune_unknown": 0.01,  # COMMUNE_UNKNOWN
    "commune_missing": 0.005,  # FIELD_MISSING (no commune in either column)
    "deceased_active": 0.15,  # DECEASED_ACTIVE (share of beneficiaries who died)
    "paid_after_death": 0.15,  # PAID_AFTER_DEATH (share of beneficiaries who died)
    "renounced_active": 0.5,  # DECEASED_ACTIVE (share of renounced beneficiaries)
    "not_digitised": 0.03,  # NOT_DIGITISED (DA_NHAP)
    "paper_only": 0.02,  # NOT_DIGITISED paper-only entries (CHUA_SO_HOA, people not in master)
    "civil_commune_unknown": 0.01,  # COMMUNE_UNKNOWN on noi_dang_ky
    "stale": 0.06,  # STALE child reviews
}


def resolve_rates(defects: float | dict | None, clean: bool) -> dict[str, float]:
    """The effective rates: defaults scaled by a multiplier, or overridden key by key by a dict."""
    rates = dict(DEFAULT_RATES)
    if clean:
        rates = {k: 0.0 for k in rates}
    if defects is None:
        return rates
    if isinstance(defects, (int, float)):
        return {k: min(1.0, v * float(defects)) for k, v in rates.items()}
    unknown = set(defects) - set(rates)
    if unknown:
        raise ValueError(f"unknown defect rate keys: {sorted(unknown)}")
    rates.update({k: float(v) for k, v in defects.items()})
    return rates


@dataclass
class Geo:
    """Administrative reference data for one current province."""

    province_code: str
    current: pd.DataFrame  # current communes of the province (code, name)
    old: pd.DataFrame  # pre-2025 communes whose default successor is in the province
    current_codes_all: np.ndarray  # every current commune code (all provinces)
    legacy_codes_all: np.ndarray  # every pre-2025 commune code
    default_successor: pd.Series  # old code -> default current code (all provinces)
    id_prefixes: np.ndarray  # the 63 valid 3-digit ID prefixes
    home_prefixes: np.ndarray  # ID prefixes of the old provinces that formed this one
    home_weights: np.ndarray
    names: dict[str, str] = field(default_factory=dict)  # current code -> commune name


def load_geo(province_code: str, seeds_dir: Path | None = None) -> Geo:
    """Read the seeds and select the communes (current and old) of a current province."""
    d = Path(seeds_dir) if seeds_dir else SEEDS_DIR
    cur = pd.read_csv(d / "admin_communes.csv", dtype=str, keep_default_na=False)
    leg = pd.read_csv(d / "admin_communes_legacy.csv", dtype=str, keep_default_na=False)
    cw = pd.read_csv(d / "commune_crosswalk.csv", dtype=str, keep_default_na=False)
    idp = pd.read_csv(d / "id_province_codes.csv", dtype=str, keep_default_na=False)
    prov = cur[cur["province_code"] == province_code].sort_values("commune_code").reset_index(drop=True)
    if prov.empty:
        raise ValueError(f"no current communes for province code {province_code!r}")
    dflt = cw[cw["is_default"].str.lower() == "true"].drop_duplicates("old_commune_code")
    default_successor = pd.Series(dflt["new_commune_code"].to_numpy(), index=dflt["old_commune_code"].to_numpy())
    old = leg.merge(dflt, left_on="commune_code", right_on="old_commune_code")
    old = old[old["new_commune_code"].isin(prov["commune_code"])]
    old = old[["commune_code", "commune_name", "province_code", "new_commune_code"]]
    old = old.sort_values("commune_code").reset_index(drop=True)
    prefixes = np.sort(idp["id_prefix"].to_numpy().astype(str))
    home = old["province_code"].map(lambda c: c.zfill(3)).value_counts().sort_index()
    home = home[home.index.isin(prefixes)]
    if home.empty:
        home = pd.Series([1], index=[province_code.zfill(3)])
    return Geo(
        province_code=province_code,
        current=prov[["commune_code", "commune_name"]],
        old=old,
        current_codes_all=np.sort(cur["commune_code"].to_numpy().astype(str)),
        legacy_codes_all=np.sort(leg["commune_code"].to_numpy().astype(str)),
        default_successor=default_successor,
        id_prefixes=prefixes,
        home_prefixes=home.index.to_numpy().astype(str),
        home_weights=(home / home.sum()).to_numpy(),
        names=dict(zip(prov["commune_code"], prov["commune_name"], strict=True)),
    )
