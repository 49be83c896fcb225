"""The presence evidence: a candidate who already has an ID-linked record of the kind is a less likely match."""

from __future__ import annotations

import duckdb
import pytest

from assets.linkage_model.scoring import (
    PRESENCE_DUPLICATE_FLOOR,
    normalise_sql,
    pair_presence_sql,
    presence_rates_sql,
)


@pytest.fixture()
def con():
    """100 people born in 1990; 91 of them have a vaccination record an ID links, one of those two."""
    con = duckdb.connect()
    con.execute(
        "create table master as select 'P' || lpad(i::varchar, 3, '0') as unique_id, 1990 as birth_year "
        "from range(100) t(i)"
    )
    con.execute(
        """create table presence as
        select 'vaccination' as source, 'vaccination' as role, unique_id as personal_id,
            case when unique_id = 'P090' then 2 else 1 end as n
        from master where unique_id <= 'P090'"""
    )
    con.execute(f"create table rates as {presence_rates_sql('presence', 'master')}")
    con.execute(
        """create table records as select * from (values
            ('vaccination:r1', 'vaccination', 'vaccination', null),
            ('civil:c1', 'civil', 'KHAI_SINH', null),
            ('vaccination:h1', 'vaccination', 'vaccination', 'P003')
        ) t(unique_id, source, role, own)"""
    )
    # r1: two namesakes scored alike, P001 with a vaccination record of his own, P095 with none
    con.execute(
        """create table candidates as select * from (values
            ('vaccination:r1', 'P001', 5.0), ('vaccination:r1', 'P095', 5.0),
            ('civil:c1', 'P002', 5.0),
            ('vaccination:h1', 'P003', 5.0)
        ) t(record_uid, personal_id, match_weight)"""
    )
    yield con
    con.close()


def test_rates_measure_coverage_by_birth_year_and_the_duplicate_share(con):
    share, dup = con.execute("select share, dup_share from rates").fetchone()
    # 91 of 100 people covered, shrunk toward the kind's share over all years (the same here)
    assert share == pytest.approx((91 + 50 * 91 / 100) / (100 + 50))
    # 92 ID-linked records, two of them of the one person who has two
    assert dup == pytest.approx(max(2 / 92, PRESENCE_DUPLICATE_FLOOR))


def test_the_candidate_without_a_record_of_the_kind_takes_the_record(con):
    con.execute(
        f"create table pp as {pair_presence_sql('candidates', 'records', 'presence', 'rates', 'master', 'own')}"
    )
    rows = {
        (r, p): (prob, rank, other)
        for r, p, prob, rank, other in con.execute(
            "select source_record_id, personal_id, match_probability, candidate_rank, other_records "
            f"from ({normalise_sql('candidates', presence='pp')})"
        ).fetchall()
    }
    share, dup = con.execute("select share, dup_share from rates").fetchone()
    odds_has, odds_none = 32 * dup / share, 32 * (1 - dup) / (1 - share)
    assert rows[("r1", "P001")][1:] == (2, 1)
    assert rows[("r1", "P095")][1:] == (1, 0)
    assert rows[("r1", "P095")][0] == pytest.approx(odds_none / (1 + odds_none + odds_has))
    assert rows[("r1", "P095")][0] > 0.99  # it was < 0.5 without the evidence: two namesakes alike
    # a vaccination record weighs nothing for a birth entry (another kind; no birth entry is ID-linked here)
    assert rows[("c1", "P002")][0] == pytest.approx(32 / 33)
    # the held-out record's own ID link is not another record
    assert rows[("h1", "P003")][2] == 0
    assert rows[("h1", "P003")][0] == pytest.approx(odds_none / (1 + odds_none))


def test_the_evidence_only_ever_points_to_one_record_per_person(con):
    """Where a kind covers fewer people than it has duplicates, neither a record nor its absence weighs."""
    con.execute("update rates set share = 0.001")
    weights = dict(
        con.execute(
            "select personal_id, presence_weight from "
            f"({pair_presence_sql('candidates', 'records', 'presence', 'rates', 'master', None)})"
        ).fetchall()
    )
    assert weights["P001"] == 0
    assert weights["P095"] == 0


def test_normalisation_without_presence_is_unchanged(con):
    rows = dict(
        con.execute(
            f"select personal_id, match_probability from ({normalise_sql('candidates')}) where source_record_id = 'r1'"
        ).fetchall()
    )
    assert rows == {"P001": pytest.approx(32 / 65), "P095": pytest.approx(32 / 65)}
