"""The presence evidence: a candidate who already has an ID-linked record of the kind is a less likely match."""

from __future__ import annotations

import duckdb
import pytest

from assets.linkage_model.scoring import (
    PRESENCE_DUPLICATE_FLOOR,
    counted_pairs_sql,
    duplicate_share_sql,
    normalise_sql,
    presence_rates_sql,
    presence_weight_sql,
)

SHARE = (91 + 50 * 91 / 100) / (100 + 50)  # 91 of the 100 people born in 1990, shrunk toward the kind's 91 %


@pytest.fixture()
def con():
    """100 people born in 1990; 91 have a vaccination record an ID links (one of them two); a night's pairs."""
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
    con.execute(
        """create table records as select * from (values
            ('vaccination:r1', 'vaccination', 'vaccination', null),
            ('civil:c1', 'civil', 'KHAI_SINH', null),
            ('vaccination:h1', 'vaccination', 'vaccination', 'P003')
        ) t(unique_id, source, role, own)
        union all
        select 'vaccination:k' || i, 'vaccination', 'vaccination', null from range(20) t(i)"""
    )
    # r1: two namesakes scored alike, P001 with a vaccination record of his own, P095 with none; k0..k19: linked
    # beyond doubt on the other evidence, one of them (k0) to a person who has an ID-linked record already
    con.execute(
        """create table candidates as select * from (values
            ('vaccination:r1', 'P001', 5.0), ('vaccination:r1', 'P095', 5.0),
            ('civil:c1', 'P002', 5.0),
            ('vaccination:h1', 'P003', 5.0)
        ) t(record_uid, personal_id, match_weight)
        union all
        select 'vaccination:k' || i, case when i = 0 then 'P010' else 'P09' || (1 + i % 9) end, 20.0
        from range(20) t(i)"""
    )
    con.execute(f"create table rates as {presence_rates_sql('presence', 'master')}")
    con.execute(f"create table counted as {counted_pairs_sql('candidates', 'records', 'presence', 'master', 'own')}")
    con.execute(f"create table duplicates as {duplicate_share_sql('counted')}")
    con.execute(f"create table pp as {presence_weight_sql('counted', 'rates', 'duplicates')}")
    yield con
    con.close()


def test_coverage_is_measured_by_birth_year_and_duplicates_on_the_confident_records(con):
    assert con.execute("select share from rates").fetchone()[0] == pytest.approx(SHARE)
    # only the 20 records linked beyond doubt are measured (r1, c1 and h1 are not), one of them a duplicate
    assert con.execute("select source, confident_records, dup_share from duplicates").fetchall() == [
        ("vaccination", 20, pytest.approx(1 / 20))
    ]


def test_the_candidate_without_a_record_of_the_kind_takes_the_record(con):
    rows = {
        (r, p): (prob, rank, other)
        for r, p, prob, rank, other in con.execute(
            "select source_record_id, personal_id, match_probability, candidate_rank, other_records "
            f"from ({normalise_sql('candidates', presence='pp')})"
        ).fetchall()
    }
    dup = 1 / 20
    odds_has, odds_none = 32 * dup / SHARE, 32 * (1 - dup) / (1 - SHARE)
    assert rows[("r1", "P001")][1:] == (2, 1)
    assert rows[("r1", "P095")][1:] == (1, 0)
    assert rows[("r1", "P095")][0] == pytest.approx(odds_none / (1 + odds_none + odds_has))
    assert rows[("r1", "P095")][0] > 0.99  # it was < 0.5 without the evidence: two namesakes alike
    # a vaccination record weighs nothing for a birth entry (another kind, not measured here)
    assert rows[("c1", "P002")][0] == pytest.approx(32 / 33)
    # the held-out record's own ID link is not another record
    assert rows[("h1", "P003")][2] == 0
    assert rows[("h1", "P003")][0] == pytest.approx(odds_none / (1 + odds_none))


def test_the_evidence_only_ever_points_to_one_record_per_person(con):
    """Where a kind covers fewer people than it has duplicates, neither a record nor its absence weighs."""
    con.execute("update rates set share = 0.001")
    weights = dict(
        con.execute(
            f"select personal_id, presence_weight from ({presence_weight_sql('counted', 'rates', 'duplicates')}) "
            "where record_uid = 'vaccination:r1'"
        ).fetchall()
    )
    assert weights == {"P001": 0, "P095": 0}


def test_the_duplicate_share_has_a_floor(con):
    con.execute("delete from candidates where record_uid = 'vaccination:k0'")
    con.execute(
        f"create or replace table counted as {counted_pairs_sql('candidates', 'records', 'presence', 'master', None)}"
    )
    assert con.execute(f"select dup_share from ({duplicate_share_sql('counted')})").fetchone()[0] == (
        PRESENCE_DUPLICATE_FLOOR
    )


def test_normalisation_without_presence_is_unchanged(con):
    rows = dict(
        con.execute(
            f"select personal_id, match_probability from ({normalise_sql('candidates')}) where source_record_id = 'r1'"
        ).fetchall()
    )
    assert rows == {"P001": pytest.approx(32 / 65), "P095": pytest.approx(32 / 65)}
