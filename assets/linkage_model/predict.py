"""The nightly linkage: score the residue against the master, apply review decisions, split by threshold."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .features import FEATURE_COLUMNS, build_inputs
from .model import MASTER, Thresholds, load_model, make_linker

WORK_SCHEMA = "linkage_work"
OUTPUT_SCHEMA = "intermediate"
LINKS_TABLE = f"{OUTPUT_SCHEMA}.linkage_probabilistic"
REVIEW_TABLE = f"{OUTPUT_SCHEMA}.linkage_review"
DECISIONS_TABLE = "decisions.review_decisions"

# Candidates below this pairwise probability cannot matter for a record's normalised probability.
CANDIDATE_FLOOR = 0.001

COMPARISON_NAMES = ("family_name", "middle_name", "given_name", "birth_date", "sex", "commune", "mother")

DECISIONS_DDL = f"""
create schema if not exists decisions;
create table if not exists {DECISIONS_TABLE} (
    source varchar not null,
    source_record_id varchar not null,
    personal_id varchar not null,
    decision varchar not null check (decision in ('accept', 'reject')),
    decided_by varchar not null,
    decided_at timestamp not null,
    match_probability double,
    note varchar
);
"""


@dataclass
class LinkageResult:
    """Counts of one night's linkage (no names, no IDs)."""

    master_rows: int = 0
    residue_rows: int = 0
    candidate_pairs: int = 0
    links_made: int = 0
    links_from_model: int = 0
    links_from_review: int = 0
    review_queue_pairs: int = 0
    review_queue_records: int = 0
    rejected_pairs_excluded: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    holdout: dict[str, Any] = field(default_factory=dict)
    charts: list[str] = field(default_factory=list)


def ensure_decisions_table(con) -> None:
    """Create `decisions.review_decisions` if missing (it is never dropped: decisions survive the nights)."""
    con.execute(DECISIONS_DDL)


def record_decision(
    con,
    *,
    source: str,
    source_record_id: str,
    personal_id: str,
    decision: str,
    decided_by: str,
    decided_at: dt.datetime | None = None,
    note: str | None = None,
) -> None:
    """Record a steward's decision on a review-queue pair; it is applied on the next night."""
    if decision not in ("accept", "reject"):
        raise ValueError("decision must be 'accept' or 'reject'")
    ensure_decisions_table(con)
    probability = con.execute(
        f"""select max(match_probability) from {REVIEW_TABLE}
            where source = ? and source_record_id = ? and personal_id = ?"""
        if _exists(con, REVIEW_TABLE)
        else "select cast(null as double) where ? is not null and ? is not null and ? is not null",
        [source, source_record_id, personal_id],
    ).fetchone()
    con.execute(
        f"insert into {DECISIONS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            source,
            source_record_id,
            personal_id,
            decision,
            decided_by,
            decided_at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
            probability[0] if probability else None,
            note,
        ],
    )


def _exists(con, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def scale_prior(splink_model: dict[str, Any], meta: dict[str, Any], master_rows: int) -> dict[str, Any]:
    """Rescale λ (two random records match) from the training master's size to tonight's.

    λ is about P(a record is in the master) / N_master: a model trained on a 50,000-person master would
    overstate every pair's prior odds thirtyfold on a province of 1.5 million.
    """
    trained_rows = (meta.get("trained_on") or {}).get("master_rows")
    if not trained_rows or not master_rows:
        return splink_model
    scaled = dict(splink_model)
    scaled["probability_two_random_records_match"] = min(
        0.5, splink_model["probability_two_random_records_match"] * trained_rows / master_rows
    )
    return scaled


def level_labels(splink_model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Comparison -> gamma value -> readable label, from the model's level order (NULL level is -1)."""
    out: dict[str, dict[int, str]] = {}
    for comparison in splink_model["comparisons"]:
        levels = comparison["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        labels = {-1: "missing on a side"}
        for i, level in enumerate(non_null):
            labels[len(non_null) - 1 - i] = level.get("label_for_charts") or level["sql_condition"]
        out[comparison["output_column_name"]] = labels
    return out


def _splink_views(con, schema: str, master: str, records: str, suffix: str = "") -> tuple[str, str]:
    cols = ", ".join(FEATURE_COLUMNS)
    con.execute(f"create or replace view {schema}.splink_master{suffix} as select {cols} from {master}")
    con.execute(f"create or replace view {schema}.splink_records{suffix} as select {cols} from {records}")
    return f"splink_master{suffix}", f"splink_records{suffix}"  # unqualified: Splink looks columns up by name


def score(con, splink_model: dict[str, Any], master_view: str, records_view: str, out_table: str) -> int:
    """Score blocked pairs; write (record_uid, personal_id, match_weight, gammas) to `out_table`."""
    from splink import DuckDBAPI

    # its own cursor (DuckDB 2 allows one open result per cursor), its work tables in the work schema
    db_api = DuckDBAPI(con.cursor(), output_schema=WORK_SCHEMA)
    # the gamma columns (the review queue's evidence) are kept only with the matching columns
    settings = {**splink_model, "retain_matching_columns": True}
    linker = make_linker(db_api, master_view, records_view, settings)
    predictions = linker.inference.predict(threshold_match_probability=CANDIDATE_FLOOR, warning_mode="never")
    gammas = ",\n".join(f"gamma_{c}" for c in COMPARISON_NAMES)
    con.execute(
        f"""
        create or replace table {out_table} as
        select
            case when source_dataset_l = '{MASTER}' then unique_id_r else unique_id_l end as record_uid,
            case when source_dataset_l = '{MASTER}' then unique_id_l else unique_id_r end as personal_id,
            match_weight,
            {gammas}
        from {WORK_SCHEMA}.{predictions.physical_name}
        """
    )
    linker.table_management.delete_tables_created_by_splink_from_db()
    return con.execute(f"select count(*) from {out_table}").fetchone()[0]


def normalise_sql(
    candidates: str,
    decisions_cte: str = "select * from (select null::varchar as source, "
    "null::varchar as source_record_id, null::varchar as personal_id) where false",
) -> str:
    """Per-record probabilities under 'a record is at most one master person': o_i / (1 + sum_j o_j).

    `o_i` is a pair's posterior odds (2 ^ match_weight, the model's prior included). A namesake in another
    commune thus takes probability away from the right person in proportion to its own evidence; two equally
    good candidates each get less than one half and go to review instead of being linked.
    """
    return f"""
    with candidates as (
        select
            split_part(record_uid, ':', 1) as source,
            substr(record_uid, strpos(record_uid, ':') + 1) as source_record_id,
            *
        from {candidates}
    ),
    rejected as ({decisions_cte}),
    kept as (
        select candidates.*
        from candidates
        anti join rejected
            on candidates.source = rejected.source
            and candidates.source_record_id = rejected.source_record_id
            and candidates.personal_id = rejected.personal_id
    ),
    odds as (
        select *, pow(2.0, least(match_weight, 60)) as pair_odds from kept
    )
    select
        *,
        pair_odds / (1 + sum(pair_odds) over (partition by source, source_record_id)) as match_probability,
        row_number() over (
            partition by source, source_record_id order by match_weight desc, personal_id
        ) as candidate_rank,
        count(*) over (partition by source, source_record_id) as n_candidates
    from odds
    """


def _latest_decisions_sql() -> str:
    return f"""
        select * from (
            select *, row_number() over (
                partition by source, source_record_id, personal_id order by decided_at desc
            ) as nth
            from {DECISIONS_TABLE}
        ) where nth = 1
    """


def link_night(
    con,
    as_of: dt.date,
    *,
    model_path: Path | str | None = None,
    staging: str = "staging",
    holdout_size: int = 5000,
    reports_dir: Path | None = None,
) -> LinkageResult:
    """Run the night's probabilistic linkage in the warehouse connection `con`; write the output tables."""
    import time

    splink_model, thresholds, meta = load_model(model_path)
    result = LinkageResult(thresholds=thresholds)
    clock = time.perf_counter()
    ensure_decisions_table(con)
    con.execute(f"create schema if not exists {OUTPUT_SCHEMA}")
    try:
        master, records = build_inputs(con, WORK_SCHEMA, staging)
        result.master_rows = con.execute(f"select count(*) from {master}").fetchone()[0]
        result.residue_rows = con.execute(f"select count(*) from {records}").fetchone()[0]
        views = _splink_views(con, WORK_SCHEMA, master, records)
        splink_model = scale_prior(splink_model, meta, result.master_rows)
        result.seconds["inputs"] = time.perf_counter() - clock

        clock = time.perf_counter()
        candidates = f"{WORK_SCHEMA}.candidates"
        result.candidate_pairs = score(con, splink_model, *views, candidates)
        result.seconds["predict"] = time.perf_counter() - clock

        clock = time.perf_counter()
        decisions = _latest_decisions_sql()
        rejected_cte = f"select source, source_record_id, personal_id from ({decisions}) where decision = 'reject'"
        accepted_cte = f"select * from ({decisions}) where decision = 'accept'"
        scored = f"{WORK_SCHEMA}.scored"
        con.execute(f"create or replace table {scored} as {normalise_sql(candidates, rejected_cte)}")
        result.rejected_pairs_excluded = con.execute(
            f"""select count(*) from {candidates} c join ({rejected_cte}) r
                on c.record_uid = r.source || ':' || r.source_record_id and c.personal_id = r.personal_id"""
        ).fetchone()[0]
        _write_outputs(con, scored, records, master, accepted_cte, thresholds, as_of, level_labels(splink_model))
        counts = con.execute(
            f"""select count(*), count(*) filter (where link_basis = 'model'),
                       count(*) filter (where link_basis = 'review_accepted') from {LINKS_TABLE}"""
        ).fetchone()
        result.links_made, result.links_from_model, result.links_from_review = counts
        result.review_queue_pairs, result.review_queue_records = con.execute(
            f"select count(*), count(distinct (source, source_record_id)) from {REVIEW_TABLE}"
        ).fetchone()
        result.seconds["decide"] = time.perf_counter() - clock

        if holdout_size > 0:
            clock = time.perf_counter()
            from .evaluation import holdout_evaluation

            result.holdout = holdout_evaluation(con, splink_model, thresholds, staging, WORK_SCHEMA, holdout_size)
            result.seconds["holdout"] = time.perf_counter() - clock
        if reports_dir is not None:
            from .charts import write_charts

            result.charts = [str(p) for p in write_charts(splink_model, thresholds, result.holdout, reports_dir)]
    finally:
        con.execute(f"drop schema if exists {WORK_SCHEMA} cascade")
    return result


def _write_outputs(con, scored, records, master, accepted_cte, thresholds, as_of, labels) -> None:
    """intermediate.linkage_probabilistic (links) and intermediate.linkage_review (the queue), tonight."""
    night = f"date '{as_of.isoformat()}'"
    con.execute(
        f"""
        create or replace table {LINKS_TABLE} as
        with accepted as (
            -- a steward's accept links the pair while the record is still unlinked and the person exists
            select a.source, a.source_record_id, a.personal_id
            from ({accepted_cte}) as a
            join {records} as r on r.source = a.source and r.source_record_id = a.source_record_id
            join {master} as m on m.unique_id = a.personal_id
            qualify row_number() over (
                partition by a.source, a.source_record_id order by a.decided_at desc
            ) = 1
        ),
        by_model as (
            select s.source, s.source_record_id, s.personal_id, s.match_probability, s.match_weight
            from {scored} as s
            anti join accepted
                on accepted.source = s.source and accepted.source_record_id = s.source_record_id
            where s.candidate_rank = 1 and s.match_probability >= {thresholds.accept}
        )
        select source, source_record_id, personal_id, match_probability, match_weight,
               'model' as link_basis, {night} as as_of
        from by_model
        union all
        select accepted.source, accepted.source_record_id, accepted.personal_id,
               1.0 as match_probability, s.match_weight, 'review_accepted' as link_basis, {night} as as_of
        from accepted
        left join {scored} as s
            on s.source = accepted.source and s.source_record_id = accepted.source_record_id
            and s.personal_id = accepted.personal_id
        """
    )
    evidence = ",\n".join(
        "case gamma_{c} {whens} end as evidence_{c}".format(
            c=c,
            whens=" ".join(f"when {g} then '{label.replace(chr(39), chr(39) * 2)}'" for g, label in labels[c].items()),
        )
        for c in COMPARISON_NAMES
    )
    con.execute(
        f"""
        create or replace table {REVIEW_TABLE} as
        select
            s.source,
            s.source_record_id,
            s.personal_id,
            s.match_probability,
            s.match_weight,
            s.candidate_rank,
            s.n_candidates,
            {evidence},
            {night} as as_of
        from {scored} as s
        anti join {LINKS_TABLE} as l on l.source = s.source and l.source_record_id = s.source_record_id
        where s.match_probability >= {thresholds.review} and s.match_probability < {thresholds.accept}
        """
    )
