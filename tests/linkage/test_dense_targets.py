"""The linkage on `dense` (a province's people per commune, two communes) meets the issue's targets."""

from __future__ import annotations

import duckdb
import pytest

from assets.linkage_model.predict import REVIEW_TABLE, link_night
from bench.linkage_eval import evaluate
from bench.linkage_prepare import AS_OF, prepare


@pytest.fixture(scope="module")
def dense_linked(tmp_path_factory):
    """Sources of `dense` ingested and staged (no Dagster), then one night's linkage with the committed model."""
    directory = tmp_path_factory.mktemp("dense")
    warehouse = prepare("dense", directory)
    con = duckdb.connect(str(warehouse))
    try:
        result = link_night(con, AS_OF, holdout_size=0)
        queued = con.execute(f"select count(distinct (source, source_record_id)) from {REVIEW_TABLE}").fetchone()[0]
    finally:
        con.close()
    return evaluate(warehouse, directory / "ground_truth.parquet"), result, queued


def test_precision_recall_and_queue_meet_the_targets(dense_linked):
    m, result, queued = dense_linked
    assert m["probabilistic_records"] > 15_000
    assert m["precision"] >= 0.9995, {k: m[k] for k in ("links", "correct_links", "none_linked", "wrong_person")}
    assert m["recall"] >= 0.995, {k: m[k] for k in ("probabilistic_records", "found")}
    assert queued <= 0.005 * result.residue_rows, (queued, result.residue_rows)


def test_comparisons_per_record_stay_bounded(dense_linked):
    _, result, _ = dense_linked
    assert result.candidate_pairs <= 20 * result.residue_rows
