"""The calibrated province, scaled down: its ground truth yields DOMAIN.md's figures exactly (counts scaled).

The figures are computed here from the written SQLite sources and `ground_truth.parquet` by the same code the
reconciliation tests compare the marts with (tests/reconciliation/truth.py, perfect linkage), not by the
simulator's own summary, which is checked to agree.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pandas as pd
import pytest

from simulator import simulate
from simulator.config import PROVINCE_FIGURES, scaled_province, share
from tests.reconciliation.truth import expected_indicators, reconciled_mask

from .test_simulator import ALL_RULES, SOURCES

AS_OF = dt.date(2025, 11, 20)
FACTOR = 0.01


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibrated")
    scenario = scaled_province(FACTOR)
    urls = {s: f"sqlite:///{root}/{s}.sqlite" for s in SOURCES}
    counts = simulate(scenario, seed=3, as_of=AS_OF, urls=urls, truth_path=root / "ground_truth.parquet")
    truth = pd.read_parquet(root / "ground_truth.parquet")
    return {"root": root, "scenario": scenario, "counts": counts, "truth": truth}


def _province_indicators(run) -> dict[str, tuple[int, int]]:
    truth = run["truth"].assign(_rules=run["truth"]["rule_codes"].map(list))
    linked = (truth["link_class"].fillna("none") != "none") & (truth["record_kind"] == "record")
    truth["_linked_id"] = truth["true_personal_id"].where(linked)
    ind = expected_indicators(truth, run["root"], reconciled_mask(truth, linked))
    ind = ind[ind["scope_level"] == "province"]
    return {r.indicator_code: (r.numerator, r.denominator) for r in ind.itertuples()}


def test_scaled_figures_are_exact(calibrated):
    fig = calibrated["scenario"].figures
    assert fig == PROVINCE_FIGURES.scaled(FACTOR)
    got = _province_indicators(calibrated)
    assert calibrated["counts"]["population.citizen"] == calibrated["scenario"].residents
    assert got["population_dung"][1] == calibrated["scenario"].residents
    assert got["children_reviewed"] == (fig.children_reconciled, fig.children_records)
    assert got["children_with_id_code"] == (fig.children_with_id_code, fig.children_reconciled)
    subjects = got["vaccination_clean"][1]
    assert got["vaccine_passports_signed"] == (fig.passports_signed, subjects)
    assert got["vaccination_clean"][0] == share(subjects, fig.vaccination_clean_pct)
    assert got["civil_digitised"] == (fig.civil_entries, fig.civil_entries)
    assert got["social_reconciled"][1] == fig.social_beneficiaries
    active = got["social_account_payment"][1]
    assert got["social_account_payment"][0] == share(active, fig.social_account_payment_pct)
    assert round(100 * got["vaccination_clean"][0] / subjects, 1) == 72.4


def test_simulator_summary_agrees(calibrated):
    meta = json.loads((calibrated["root"] / "ground_truth.json").read_text(encoding="utf-8"))
    got = _province_indicators(calibrated)
    for code, figure in meta["figures"].items():
        if code != "residents":
            assert (figure["numerator"], figure["denominator"]) == got[code], code


def test_defects_stay_planted(calibrated):
    found = Counter(code for codes in calibrated["truth"]["rule_codes"] for code in codes)
    # civil_digitised is 100 %: the province has no undigitised entry, by its own figure
    assert set(found) == ALL_RULES - {"NOT_DIGITISED"}
    assert set(calibrated["truth"]["link_class"].dropna()) == {"personal_id", "legacy_id", "probabilistic", "none"}
