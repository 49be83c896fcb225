"""The presence evidence: a candidate who already has an ID-linked record of the kind is a less likely match."""

from __future__ import annotations

import duckdb
import pytest

from assets.linkage_model.scoring import (
    CORROBORATION_U_FLOOR,
    PRESENCE_DUPLICATE_FLOOR,
    corroboration_rates_sql,
    counted_pairs_sql,
    duplicate_share_sql,
    normalise_sql,
    presence_rates_sql,
    presence_weight_sql,
)

SHARE = (91 + 50 * 91 / 100) / (100 + 50)  # 91 of the 100 people born in 1990, shrunk toward the kind's 91 %


@pytest.fixture()
def con():
    """100 people born in 1990; 91 have a vaccination record in commune X1 an ID links (one of them two)."""
    con = duckdb.connect()
    con.execute(
        "create table master as select 'P' || lpad(i::varchar, 3, '0') as unique_id, 1990 as birth_year "
        "from range(100) t(i)"
    )
    con.execute(
        """create table by_commune as
        select 'vaccination' as source, 'vaccination' as role, unique_id as personal_id, 'X1' as commune_code,
            case when unique_id = 'P090' then 2 else 1 end as n
        from master where unique_id <= 'P090'"""
    )
    con.execute("create table presence as select source, role, personal_id, sum(n) as n from by_commune group by all")
    # r1, c1, h1: below; k0..k19: vaccination records linked beyond doubt, one of them (k0) to a person who has
    # an ID-linked record already; m0..m24: social records in X1 linked beyond doubt though their commune is not
    # the person's in the master, 20 of them to people whose vaccination record is in X1; z0..z99: pairs almost
    # surely not a match, in X3; s1: a social record in X1 with two namesakes alike, P001 vaccinated in X1
    con.execute(
        """create table records as select * from (values
            ('vaccination:r1', 'vaccination', 'vaccination', 'X5', null),
            ('civil:c1', 'civil', 'KHAI_SINH', 'X5', null),
            ('vaccination:h1', 'vaccination', 'vaccination', 'X5', 'P003'),
            ('social:s1', 'social', 'social', 'X1', null)
        ) t(unique_id, source, role, commune_code, own)
        union all select 'vaccination:k' || i, 'vaccination', 'vaccination', 'X1', null from range(20) t(i)
        union all select 'social:m' || i, 'social', 'social', 'X1', null from range(25) t(i)
        union all select 'social:z' || i, 'social', 'social', 'X3', null from range(100) t(i)"""
    )
    con.execute(
        """create table candidates as select * from (values
            ('vaccination:r1', 'P001', 5.0, 1), ('vaccination:r1', 'P095', 5.0, 1),
            ('civil:c1', 'P002', 5.0, 1),
            ('vaccination:h1', 'P003', 5.0, 1),
            ('social:s1', 'P001', 5.0, 0), ('social:s1', 'P095', 5.0, 0)
        ) t(record_uid, personal_id, match_weight, gamma_commune)
        union all
        select 'vaccination:k' || i, case when i = 0 then 'P010' else 'P09' || (1 + i % 9) end, 20.0, 1
        from range(20) t(i)
        union all
        select 'social:m' || i,
            case when i < 20 then 'P0' || lpad((20 + i)::varchar, 2, '0') else 'P09' || (i - 19) end, 20.0, 0
        from range(25) t(i)
        union all select 'social:z' || i, 'P0' || lpad((i % 90)::varchar, 2, '0'), -10.0, 0 from range(100) t(i)"""
    )
    con.execute(f"create table rates as {presence_rates_sql('presence', 'master')}")
    sql = counted_pairs_sql("candidates", "records", "presence", "by_commune", "master", "own")
    con.execute(f"create table counted as {sql}")
    con.execute(f"create table duplicates as {duplicate_share_sql('counted')}")
    con.execute(f"create table corroboration as {corroboration_rates_sql('counted')}")
    con.execute(f"create table pp as {presence_weight_sql('counted', 'rates', 'duplicates', 'corroboration')}")
    yield con
    con.close()


def test_coverage_is_measured_by_birth_year_and_duplicates_on_the_confident_records(con):
    assert con.execute("select share from rates").fetchone()[0] == pytest.approx(SHARE)
    # only the 20 records linked beyond doubt are measured (r1, c1 and h1 are not), one of them a duplicate
    assert con.execute("select source, confident_records, dup_share from duplicates order by all").fetchall() == [
        ("social", 25, PRESENCE_DUPLICATE_FLOOR),
        ("vaccination", 20, pytest.approx(1 / 20)),
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
            "select personal_id, presence_weight from "
            f"({presence_weight_sql('counted', 'rates', 'duplicates', 'corroboration')}) "
            "where record_uid = 'vaccination:r1'"
        ).fetchall()
    )
    assert weights == {"P001": 0, "P095": 0}


def test_the_duplicate_share_has_a_floor(con):
    con.execute("delete from candidates where record_uid = 'vaccination:k0'")
    sql = counted_pairs_sql("candidates", "records", "presence", "by_commune", "master", None)
    con.execute(f"create or replace table counted as {sql}")
    assert con.execute(
        f"select dup_share from ({duplicate_share_sql('counted')}) where source = 'vaccination'"
    ).fetchone() == (PRESENCE_DUPLICATE_FLOOR,)


def test_a_commune_another_source_shares_weighs_for_the_pair(con):
    """20 of the 25 confident movers are corroborated (q = 0.8); no sure non-match is (u at its floor)."""
    assert con.execute("select source, confident_movers, q, u from corroboration").fetchall() == [
        ("social", 25, pytest.approx(0.8), CORROBORATION_U_FLOOR)
    ]
    rows = {
        p: (prob, corroborated)
        for p, prob, corroborated in con.execute(
            "select personal_id, match_probability, corroborated "
            f"from ({normalise_sql('candidates', presence='pp')}) where source_record_id = 's1'"
        ).fetchall()
    }
    odds = 32 * 0.8 / CORROBORATION_U_FLOOR
    assert rows["P001"] == (pytest.approx(odds / (1 + odds + 32)), True)
    assert rows["P095"][1] is False
    # no social record is ID-linked here: social's presence is not measured and weighs nothing either way
    assert con.execute("select max(abs(presence_weight)) from pp where record_uid = 'social:s1'").fetchone() == (0,)
    # the same commune in the master, or a record of the same source there, is no corroboration
    assert not con.execute(
        "select bool_or(corroborated) from pp where record_uid in ('vaccination:r1', 'vaccination:k1')"
    ).fetchone()[0]


def test_normalisation_without_presence_is_unchanged(con):
    rows = dict(
        con.execute(
            f"select personal_id, match_probability from ({normalise_sql('candidates')}) where source_record_id = 'r1'"
        ).fetchall()
    )
    assert rows == {"P001": pytest.approx(32 / 65), "P095": pytest.approx(32 / 65)}
