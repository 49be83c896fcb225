"""The linkage inside the whole night on the tiny scenario, measured against the simulator's ground truth."""

from __future__ import annotations

import duckdb

from bench.linkage_eval import evaluate

PROBABILISTIC_IN_MARTS = (
    "(select source, source_record_id, personal_id from marts.fct_reconciliation where match_method = 'probabilistic')"
)


def test_probabilistic_links_meet_the_targets(tiny_night, tiny_sources):
    m = evaluate(tiny_night, tiny_sources / "ground_truth.parquet", links_table=PROBABILISTIC_IN_MARTS)
    assert m["probabilistic_records"] > 0
    assert m["precision"] >= 0.995, {k: m[k] for k in ("links", "correct_links", "none_linked", "wrong_person")}
    assert m["recall"] >= 0.98, {k: m[k] for k in ("probabilistic_records", "found")}
    assert m["none_linked"] == 0, "records of people the master does not have stay unlinked"


def test_linkage_outputs_reach_the_marts(tiny_night):
    con = duckdb.connect(str(tiny_night), read_only=True)
    try:
        links = con.execute("select count(*) from intermediate.linkage_probabilistic").fetchone()[0]
        enriched = con.execute(
            "select count(*) from marts.fct_enrichment where match_method = 'probabilistic'"
        ).fetchone()[0]
        assert links > 0 and enriched > 0
        queue = con.execute(
            "select count(*), count(*) filter (where match_probability >= 0.95) from marts.fct_review_queue"
        )
        _, above_accept = queue.fetchone()
        assert above_accept == 0, "the review queue holds only pairs below the accept threshold"
        decisions = con.execute(
            "select table_name from information_schema.tables where table_schema = 'decisions' order by 1"
        ).fetchall()
        assert decisions == [("review_decisions",), ("review_queue_history",)], "the decisions schema is kept"
    finally:
        con.close()
