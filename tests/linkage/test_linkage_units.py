"""Unit tests of the linkage on a hand-made staging layer (synthetic people, no simulator, no dbt)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import duckdb
import pytest

from assets.linkage_model.charts import write_charts
from assets.linkage_model.features import residue_sql
from assets.linkage_model.model import MODEL_PATH, Thresholds, floor_m_probabilities, load_model
from assets.linkage_model.predict import (
    DECISIONS_TABLE,
    LINKS_TABLE,
    OTHER_RECORD_LABELS,
    REVIEW_TABLE,
    level_labels,
    link_night,
    normalise_sql,
    record_decision,
    scale_prior,
)
from assets.linkage_model.review import ReviewError
from assets.linkage_model.scoring import COMPARISON_NAMES
from tests.linkage.handmade import COMMUNES, load, namesake_world, record_of

AS_OF = dt.date(2026, 11, 25)


def strip(name: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", name) if unicodedata.category(c) != "Mn").replace("đ", "d")


@pytest.fixture()
def world(tmp_path):
    """400 people, two namesakes (one name, birth date and sex; two communes), and sector records."""
    master, records = namesake_world()
    b = master[-1]  # the second namesake
    # the social records carry their names in capitals without diacritics
    records = [dict(r, name=strip(r["name"]).upper()) if r["source"] == "social" else r for r in records]
    moved = master[90]
    records.append(record_of(moved, "children", "moved", commune=next(c for c in COMMUNES if c != moved.commune)))
    records.append(record_of(b, "civil", "namesake_unknown_commune", commune=None))
    records.append(
        {
            "source": "social",
            "source_record_id": "ghost",
            "name": "lương thế quyết",
            "birth_date": dt.date(1971, 2, 3),
            "sex": "M",
            "commune": COMMUNES[2],
        }
    )
    records.append(record_of(master[100], "vaccination", "has_id", id12=master[100].personal_id))
    truth = {("vaccination", f"v{i}"): p.personal_id for i, p in enumerate(master[:60])}
    truth |= {("social", f"s{i}"): p.personal_id for i, p in enumerate(master[60:90])}
    truth[("children", "moved")] = moved.personal_id
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    load(con, master, records)
    yield con, {p.personal_id: p for p in master}, truth
    con.close()


def links(con) -> dict[tuple[str, str], tuple[str, float, str]]:
    rows = con.execute(
        f"select source, source_record_id, personal_id, match_probability, link_basis from {LINKS_TABLE}"
    )
    return {(s, r): (p, prob, basis) for s, r, p, prob, basis in rows.fetchall()}


def test_residue_leaves_out_records_an_id_links(world):
    con, _, _ = world
    ids = {r[0] for r in con.execute(f"select unique_id from ({residue_sql()})").fetchall()}
    assert "vaccination:has_id" not in ids
    assert "vaccination:v0" in ids


def test_links_records_without_id_to_the_right_person(world):
    con, _, truth = world
    result = link_night(con, AS_OF, holdout_size=0)
    made = links(con)
    found = [key for key in truth if key in made]
    assert all(made[key][0] == truth[key] for key in found), "every link names the right person"
    assert len(found) >= len(truth) - 1, "unaccented upper-case names and a moved child are linked too"
    assert result.links_made == len(made)
    assert ("vaccination", "has_id") not in made
    assert all(basis == "model" and prob >= 0.95 for _, prob, basis in made.values())


def test_namesakes_are_never_merged(world):
    con, _, _ = world
    link_night(con, AS_OF, holdout_size=0)
    made = links(con)
    # the record in namesake A's commune links A, never B
    assert made[("civil", "namesake_a")][0] == "079199000001"
    # without a commune the two namesakes are indistinguishable: no link, both go to review
    assert ("civil", "namesake_unknown_commune") not in made
    queued = con.execute(
        f"select personal_id, match_probability from {REVIEW_TABLE} where source_record_id = 'namesake_unknown_commune'"
    ).fetchall()
    assert {p for p, _ in queued} == {"079199000001", "079199000002"}
    assert all(prob < 0.5 for _, prob in queued)


def test_the_review_queue_says_which_namesake_already_has_a_record_of_the_kind(world):
    """Namesake A has a civil record an ID links; the ID-less civil record is weighed toward B."""
    con, people, _ = world
    a = people["079199000001"]
    insert = (
        "insert into handmade.records (source, source_record_id, full_name, birth_date, sex, commune_code, id12, "
        "entry_type) values ('civil', ?, ?, ?, ?, ?, ?, ?)"
    )
    con.execute(insert, ["a_registered", a.name, a.birth_date, a.sex, a.commune, a.personal_id, None])
    # the duplicate share is measured on the civil records linked beyond doubt: ten people's only civil record
    # (namesake_a, A's second, becomes another kind of entry)
    for i, p in enumerate(list(people.values())[200:210]):
        con.execute(insert, [f"c{i}", p.name, p.birth_date, p.sex, p.commune, None, None])
    con.execute("update handmade.records set entry_type = 'KET_HON' where source_record_id = 'namesake_a'")
    link_night(con, AS_OF, holdout_size=0)
    queued = con.execute(
        f"select personal_id, match_probability, evidence_other_record from {REVIEW_TABLE} "
        "where source_record_id = 'namesake_unknown_commune'"
    ).fetchall()
    by_person = {p: (prob, evidence) for p, prob, evidence in queued}
    # without A's own record both namesakes stand below one half (test_namesakes_are_never_merged)
    assert by_person["079199000002"][0] > 0.5
    assert by_person["079199000002"][1] == OTHER_RECORD_LABELS[False]
    if "079199000001" in by_person:
        assert by_person["079199000001"][1] == OTHER_RECORD_LABELS[True]
        assert by_person["079199000001"][0] < by_person["079199000002"][0]
    assert ("civil", "namesake_unknown_commune") not in links(con)  # still a steward's decision


def test_ghost_stays_unlinked(world):
    con, _, _ = world
    link_night(con, AS_OF, holdout_size=0)
    assert ("social", "ghost") not in links(con)


def test_review_decisions_are_applied_next_night(world):
    con, _, _ = world
    link_night(con, AS_OF, holdout_size=0)
    wrong = con.execute(
        f"select personal_id from {REVIEW_TABLE} "
        "where source_record_id = 'namesake_unknown_commune' order by personal_id"
    ).fetchall()
    right, other = "079199000002", "079199000001"
    assert {w[0] for w in wrong} == {right, other}
    record_decision(
        con,
        source="civil",
        source_record_id="namesake_unknown_commune",
        personal_id=other,
        decision="reject",
        decided_by="steward-1",
    )
    linked_pair = con.execute(f"select source, source_record_id, personal_id from {LINKS_TABLE} limit 1").fetchone()
    with pytest.raises(ReviewError, match="row 1: the pair is not in the review queue"):
        record_decision(
            con,
            source=linked_pair[0],
            source_record_id=linked_pair[1],
            personal_id=linked_pair[2],
            decision="reject",
            decided_by="steward-1",
        )
    with pytest.raises(ReviewError, match="no reviewer named"):
        record_decision(
            con,
            source="civil",
            source_record_id="namesake_unknown_commune",
            personal_id=right,
            decision="accept",
            decided_by=" ",
        )
    link_night(con, AS_OF + dt.timedelta(days=1), holdout_size=0)
    made = links(con)
    assert made[linked_pair[:2]][0] == linked_pair[2], "a refused decision changed nothing"
    queued = {r[0] for r in con.execute(f"select personal_id from {REVIEW_TABLE}").fetchall()}
    assert other not in queued, "a rejected pair is never proposed again"
    # with the namesake in the other commune rejected, the remaining candidate stands alone
    assert made[("civil", "namesake_unknown_commune")][0] == right

    record_decision(
        con,
        source="civil",
        source_record_id="namesake_unknown_commune",
        personal_id=right,
        decision="accept",
        decided_by="steward-2",
    )
    link_night(con, AS_OF + dt.timedelta(days=2), holdout_size=0)
    assert links(con)[("civil", "namesake_unknown_commune")] == (right, 1.0, "review_accepted")
    n = con.execute(f"select count(*) from {DECISIONS_TABLE}").fetchone()[0]
    assert n == 2, "decisions survive the nights (refused ones were never kept)"


def test_a_person_can_be_linked_by_two_records_of_a_source(world):
    """Design choice: the step keeps every link above accept; two records of one person make DUPLICATE."""
    con, master, _ = world
    p = master["079100000005"]
    con.execute(
        "insert into handmade.records (source, source_record_id, full_name, birth_date, sex, commune_code) "
        "values ('vaccination', 'second', ?, ?, ?, ?)",
        [p.name, p.birth_date, p.sex, p.commune],
    )
    link_night(con, AS_OF, holdout_size=0)
    made = links(con)
    assert made[("vaccination", "v5")][0] == made[("vaccination", "second")][0] == p.personal_id


def test_normalisation_splits_probability_between_equal_candidates():
    con = duckdb.connect()
    con.execute(
        """create table c as select * from (values ('vaccination:1', 'A', 10.0), ('vaccination:1', 'B', 10.0),
           ('vaccination:2', 'A', 20.0), ('vaccination:2', 'C', 5.0))
           t(record_uid, personal_id, match_weight)"""
    )
    rows = {
        (r, p): prob
        for r, p, prob in con.execute(
            f"select source_record_id, personal_id, match_probability from ({normalise_sql('c')})"
        ).fetchall()
    }
    assert rows[("1", "A")] == pytest.approx(rows[("1", "B")]) and rows[("1", "A")] < 0.5
    assert rows[("2", "A")] > 0.999 and rows[("2", "C")] < 0.001


def test_model_file_loads_with_thresholds():
    splink_model, thresholds, meta = load_model(MODEL_PATH)
    assert isinstance(thresholds, Thresholds) and 0 < thresholds.review <= thresholds.accept < 1
    assert meta["trained_on"]["master_rows"] > 0
    labels = level_labels(splink_model)
    assert set(labels) == set(COMPARISON_NAMES)
    assert {"mother", "father", "spouse", "death", "commune", "birth_date", "sex"} <= set(labels)
    assert labels["sex"] == {-1: "missing on a side", 1: "same", 0: "different"}
    for comparison in splink_model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert level["m_probability"] > 0, "no level is an absolute veto"


def test_thresholds_validate():
    with pytest.raises(ValueError):
        Thresholds(accept=0.5, review=0.9)


def test_floor_and_prior_scaling():
    model = {
        "comparisons": [
            {"comparison_levels": [{"is_null_level": True}, {"m_probability": 1.0}, {"m_probability": 0.0}]}
        ],
        "probability_two_random_records_match": 1e-4,
    }
    floored = floor_m_probabilities(json.loads(json.dumps(model)), floor=0.01)
    ms = [lv["m_probability"] for lv in floored["comparisons"][0]["comparison_levels"][1:]]
    assert sum(ms) == pytest.approx(1.0) and min(ms) > 0
    scaled = scale_prior(model, {"trained_on": {"master_rows": 1000}}, 10_000)
    assert scaled["probability_two_random_records_match"] == pytest.approx(1e-5)


def test_charts_open_offline(tmp_path, world):
    con, _, _ = world
    result = link_night(con, AS_OF, holdout_size=200, reports_dir=tmp_path / "linkage")
    assert result.holdout["records"] > 0 and 0 <= result.holdout["precision_at_accept"] <= 1
    splink_model, thresholds, _ = load_model()
    for path in write_charts(splink_model, thresholds, result.holdout, tmp_path / "again"):
        html = path.read_text(encoding="utf-8")
        assert "vegaEmbed" in html
        assert "cdn.jsdelivr" not in html and "<script src=" not in html


def test_result_holds_numbers_only(world):
    con, _, _ = world
    result = link_night(con, AS_OF, holdout_size=0)
    for name, value in dataclasses.asdict(result).items():
        if name in ("seconds", "thresholds", "holdout", "charts", "review_workbooks"):  # numbers, paths
            continue
        if name == "corroboration_bits":  # sources and bits, where measured
            assert set(value) <= {"vaccination", "social", "children", "civil"}
            assert all(isinstance(b, float) and b >= 0 for b in value.values())
            continue
        if name == "duplicate_share":  # kinds of record and shares
            assert value and all(isinstance(d, float) and 0 < d <= 1 for d in value.values())
            assert set(value) <= {"vaccination", "social", "children", "civil"} | {
                f"civil/{t}" for t in ("KHAI_SINH", "KHAI_TU", "KET_HON")
            }
            continue
        assert isinstance(value, int), name


def test_night_term_frequencies_and_blocking_neighbours_change_no_score(world):
    """Registered frequencies score as Splink's own; the master cut to blocking neighbours loses no pair."""
    from assets.linkage_model.features import build_inputs, splink_views
    from assets.linkage_model.scoring import WORK_SCHEMA, neighbours_sql, score, term_frequency_tables

    con, _, _ = world
    splink_model, _, _ = load_model()
    master, records = build_inputs(con, WORK_SCHEMA)
    views = splink_views(con, WORK_SCHEMA, master, records)
    tf_tables = term_frequency_tables(con, splink_model, master, records)
    rows = "select * from {} order by record_uid, personal_id"
    score(con, splink_model, *views, f"{WORK_SCHEMA}.own")
    score(con, splink_model, *views, f"{WORK_SCHEMA}.registered", tf_tables=tf_tables)
    own = con.execute(rows.format(f"{WORK_SCHEMA}.own")).fetchall()
    assert len(own) > 50 and own == con.execute(rows.format(f"{WORK_SCHEMA}.registered")).fetchall()
    neighbours = f"{WORK_SCHEMA}.neighbours"
    con.execute(f"create table {neighbours} as {neighbours_sql(splink_model, master, records)}")
    n_master, n_neighbours = con.execute(
        f"select (select count(*) from {master}), count(*) from {neighbours}"
    ).fetchone()
    assert n_neighbours < n_master
    cut = splink_views(con, WORK_SCHEMA, neighbours, records, suffix="_cut")
    score(con, splink_model, *cut, f"{WORK_SCHEMA}.cut", tf_tables=tf_tables)
    assert own == con.execute(rows.format(f"{WORK_SCHEMA}.cut")).fetchall()
    # the other side (the incremental linkage scores changed master rows against the records they block with)
    few, near = f"{WORK_SCHEMA}.few", f"{WORK_SCHEMA}.near"
    paired = f"select personal_id from {WORK_SCHEMA}.own"
    con.execute(f"create table {few} as select * from {master} where unique_id in ({paired}) order by 1 limit 40")
    con.execute(f"create table {near} as {neighbours_sql(splink_model, records, few)}")
    n_records, n_near = con.execute(f"select (select count(*) from {records}), count(*) from {near}").fetchone()
    assert 0 < n_near < n_records
    score(
        con,
        splink_model,
        *splink_views(con, WORK_SCHEMA, few, records, suffix="_f"),
        f"{WORK_SCHEMA}.f",
        tf_tables=tf_tables,
    )
    score(
        con,
        splink_model,
        *splink_views(con, WORK_SCHEMA, few, near, suffix="_n"),
        f"{WORK_SCHEMA}.n",
        tf_tables=tf_tables,
    )
    against_all = con.execute(rows.format(f"{WORK_SCHEMA}.f")).fetchall()
    assert len(against_all) >= 20 and against_all == con.execute(rows.format(f"{WORK_SCHEMA}.n")).fetchall()


def test_name_and_commune_block_only_plausible_birth_dates():
    """Blocking rule 4 (same name, same commune) leaves out namesakes born years apart: the committed model's rules
    are the code's, and its rule 4 keeps an unknown, a near and a one-digit-off birth date only."""
    from assets.linkage_model.model import NAME_COMMUNE_PLAUSIBLE_BIRTH, blocking_rules

    splink_model, _, _ = load_model(MODEL_PATH)
    committed = [r["blocking_rule"] for r in splink_model["blocking_rules_to_generate_predictions"]]
    assert NAME_COMMUNE_PLAUSIBLE_BIRTH in committed and len(committed) == len(blocking_rules())
    con = duckdb.connect()
    con.execute(
        """create table l as select * from (values
            (1, 'nguyen van an', '00001', date '1980-05-01', 1980),
            (2, 'nguyen van an', '00001', date '1981-02-03', 1981),
            (3, 'nguyen van an', '00001', date '1908-05-01', 1908),
            (4, 'nguyen van an', '00001', date '1950-09-17', 1950),
            (5, 'nguyen van an', '00001', null, null),
            (6, 'nguyen van an', '00002', date '1980-05-01', 1980)
        ) as t(id, name_unaccented, commune_code, birth_date, birth_year)"""
    )
    con.execute(
        "create table r as select * from (values ('nguyen van an', '00001', date '1980-05-01', 1980))"
        " as t(name_unaccented, commune_code, birth_date, birth_year)"
    )
    found = {row[0] for row in con.execute(f"select l.id from l, r where {NAME_COMMUNE_PLAUSIBLE_BIRTH}").fetchall()}
    # same date; within a year; one digit off (1980 -> 1908 by a transposition); unknown year. Not: 30 years apart,
    # another commune.
    assert found == {1, 2, 3, 5}


def test_the_linkage_caps_duckdbs_memory_only_downwards_and_restores_it(world):
    from assets.linkage_model.predict import WORK_MEMORY_LIMIT, _bytes, _memory_capped

    con, _, _ = world

    def setting() -> str:
        return con.execute("select current_setting('memory_limit')").fetchone()[0]

    con.execute("reset memory_limit")
    default = setting()
    link_night(con, AS_OF, holdout_size=0)
    assert setting() == default  # DuckDB's default is restored exactly
    with _memory_capped(con, WORK_MEMORY_LIMIT):
        assert _bytes(setting()) <= _bytes(WORK_MEMORY_LIMIT)
    con.execute("set memory_limit = '1GB'")
    low = setting()
    link_night(con, AS_OF, holdout_size=0)
    # a lower limit is never raised, and is restored (to DuckDB's display rounding of a set value)
    assert abs(_bytes(setting()) - _bytes(low)) <= 0.001 * _bytes(low)


def test_a_linkage_out_of_memory_under_the_cap_is_linked_again_without_it(world, monkeypatch):
    import assets.linkage_model.predict as predict

    con, _, _ = world
    con.execute("reset memory_limit")
    default = con.execute("select current_setting('memory_limit')").fetchone()[0]
    normal = link_night(con, AS_OF, holdout_size=0)
    links = con.execute(f"select * from {LINKS_TABLE} order by all").fetchall()
    monkeypatch.setattr(predict, "WORK_MEMORY_LIMIT", "2MB")  # too little for Splink: DuckDB runs out of memory
    again = link_night(con, AS_OF, holdout_size=0)
    assert again.memory_cap_exceeded and not normal.memory_cap_exceeded
    assert con.execute(f"select * from {LINKS_TABLE} order by all").fetchall() == links
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == default
