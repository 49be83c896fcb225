"""How good the saved model is on this night's data, without ground truth: records linked by their own ID are
scored as if they had none, and the person the model picks is compared with the person their ID names."""

from __future__ import annotations

from typing import Any

from .features import holdout_sql, splink_views
from .model import Thresholds
from .scoring import neighbours_sql, normalise_sql, pair_presence, score

CURVE_THRESHOLDS = (
    0.05,
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.85,
    0.9,
    0.925,
    0.95,
    0.97,
    0.98,
    0.99,
    0.995,
    0.998,
    0.999,
)


def curve_sql(best: str, n_total: int, thresholds: tuple[float, ...] = CURVE_THRESHOLDS) -> str:
    """Precision and recall of 'link the best candidate when its probability >= t' for each t."""
    values = ", ".join(f"({float(t)}::double)" for t in thresholds)
    return f"""
    select
        t.threshold,
        count(b.record_uid) as links,
        count(b.record_uid) filter (where b.is_correct) as correct,
        coalesce(
            count(b.record_uid) filter (where b.is_correct) / nullif(count(b.record_uid), 0), 1.0
        ) as precision,
        count(b.record_uid) filter (where b.is_correct) / {max(n_total, 1)} as recall
    from (values {values}) as t(threshold)
    left join {best} as b on b.match_probability >= t.threshold
    group by t.threshold
    order by t.threshold
    """


def holdout_evaluation(
    con,
    splink_model: dict[str, Any],
    thresholds: Thresholds,
    staging: str,
    schema: str,
    size: int,
    tf_tables: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Precision/recall curve on up to `size` ID-linked records scored without their ID (numbers only).

    With `tf_tables` (the night's term frequencies) only the master rows a blocking rule pairs with a held-out
    record are read: the same candidate pairs, scored with the night's frequencies, without a pass over the
    whole master.
    """
    holdout = f"{schema}.lk_holdout"
    con.execute(f"create or replace table {holdout} as {holdout_sql(size, staging)}")
    n = con.execute(f"select count(*) from {holdout}").fetchone()[0]
    if n == 0:
        return {"records": 0}
    master = f"{schema}.lk_master"
    if tf_tables:
        neighbours = neighbours_sql(splink_model, f"{schema}.lk_master", holdout)
        master = f"{schema}.lk_master_holdout"
        con.execute(f"create or replace table {master} as {neighbours}")
    views = splink_views(con, schema, master, holdout, suffix="_holdout")
    candidates = f"{schema}.holdout_candidates"
    score(con, splink_model, *views, candidates, tf_tables=tf_tables)
    # the presence evidence as the night weighs it, the held-out record's own ID link not counted
    presence = pair_presence(con, schema, staging, candidates, holdout, f"{schema}.lk_master", own="true_personal_id")
    best = f"{schema}.holdout_best"
    con.execute(
        f"""
        create or replace table {best} as
        select s.record_uid, s.match_probability, s.personal_id = h.true_personal_id as is_correct
        from ({normalise_sql(candidates, presence=presence)}) as s
        join {holdout} as h on h.unique_id = s.record_uid
        where s.candidate_rank = 1
        """
    )
    rows = con.execute(curve_sql(best, n, tuple(sorted({*CURVE_THRESHOLDS, thresholds.accept, thresholds.review}))))
    curve = [
        dict(zip(("threshold", "links", "correct", "precision", "recall"), r, strict=True)) for r in rows.fetchall()
    ]
    at = {round(float(c["threshold"]), 6): c for c in curve}
    accept, review = at[round(thresholds.accept, 6)], at[round(thresholds.review, 6)]
    return {
        "records": int(n),
        "precision_at_accept": float(accept["precision"]),
        "recall_at_accept": float(accept["recall"]),
        "review_share": float((review["links"] - accept["links"]) / n),
        "curve": [{k: float(v) for k, v in c.items()} for c in curve],
    }
