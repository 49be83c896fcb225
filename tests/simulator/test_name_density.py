"""The simulated names are as dense as a real province's: many people share a name and birth year."""

from __future__ import annotations

import pytest

from bench.linkage_density import density, population
from simulator.config import SCENARIOS, load_geo


@pytest.fixture(scope="module")
def dense_density() -> dict[str, float]:
    return density(population("dense"))


def test_dense_has_the_people_per_commune_of_province():
    communes = len(load_geo("24").current)
    per_commune_province = SCENARIOS["province"].residents / communes
    dense = SCENARIOS["dense"]
    assert dense.residents / dense.communes == pytest.approx(per_commune_province, rel=0.01)


def test_namesakes_per_commune_are_as_common_as_in_a_province(dense_density):
    # measured on `province` (1.5 M): 8.9 % of people share accent-free name + birth year with someone in
    # their commune, 66 % anywhere in the province; 3.4 % share name + birth date + sex in the province
    assert dense_density["persons_per_commune"] == pytest.approx(15_175, rel=0.01)
    assert 0.06 <= dense_density["share_name_year_commune"] <= 0.12
    assert dense_density["share_name_year"] >= 0.10
    assert dense_density["share_name_date_sex"] >= 0.004
