"""The nightly linkage: score the residue against the master, apply review decisions, split by threshold."""

from __future__ import annotations

import datetime as dt
import functools
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .evaluation import holdout_evaluation
from .features import build_inputs, fingerprint_sql, splink_views
from .model import Thresholds, load_model
from .review import (
    DECISIONS_TABLE,
    OUTPUT_SCHEMA,
    REVIEW_TABLE,
    ensure_decisions_table,
    record_decision,
    remember_queue,
    write_workbooks,
)
from .scoring import (
    COMPARISON_NAMES,
    PRESENCE_TABLE,
    WORK_SCHEMA,
    base_night,
    close_work,
    keep_state,
    kept_holdout,
    level_labels,
    night_parameters,
    normalise_sql,
    pair_presence,
    scale_commune_u,
    scale_prior,
    score,
    score_incremental,
    term_frequency_tables,
)

__all__ = ["LINKS_TABLE", "REVIEW_TABLE", "DECISIONS_TABLE", "link_night", "record_decision", "normalise_sql"]

LINKS_TABLE = f"{OUTPUT_SCHEMA}.linkage_probabilistic"


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
    decisions_shown_again: int = 0
    review_workbooks: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    holdout: dict[str, Any] = field(default_factory=dict)
    # the presence evidence's duplicate share d per kind of record ("vaccination", "civil/KHAI_SINH"), measured
    # tonight on the records linked beyond doubt without it
    duplicate_share: dict[str, float] = field(default_factory=dict)
    # the corroboration evidence's bits per source (log2 q / u), where tonight's confident movers measured it
    corroboration_bits: dict[str, float] = field(default_factory=dict)
    charts: list[str] = field(default_factory=list)
    # the kept state (with a run id): tonight's pairs = the base night's unchanged ones + what was rescored
    incremental: bool = False
    parameters_refreshed: bool = False
    records_changed: int = 0
    master_changed: int = 0
    pairs_kept: int = 0
    pairs_scored: int = 0
    # text, not fields (the result's fields are numbers): why these parameters, and the base night
    parameters_reason = ""
    base_as_of = ""
    holdout_as_of = ""  # the night the hold-out figures were measured on
    memory_cap_exceeded = False  # linked again without the memory cap (the capped run ran out of memory)


# DuckDB's memory during the linkage (its in-memory work tables included): a province's full scoring (1.5 M
# residents) peaked at 5.6 GB without a cap, 4.4 GB with the work tables in the warehouse file, 3.6 GB with this
WORK_MEMORY_LIMIT = "3.5GB"


def _memory_limit(con) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


@contextmanager
def _memory_capped(con, limit: str):
    """DuckDB's memory limit lowered to `limit` (never raised) meanwhile; then DuckDB's default again exactly (a
    reset), or a limit set before as DuckDB shows it (to 0.1 GiB)."""
    current = _memory_limit(con)
    con.execute("reset memory_limit")
    restore = None if _memory_limit(con) == current else current
    if restore is not None:
        con.execute(f"set memory_limit = '{restore}'")
    if _bytes(limit) < _bytes(current):
        con.execute(f"set memory_limit = '{limit}'")
    try:
        yield
    finally:
        con.execute("reset memory_limit" if restore is None else f"set memory_limit = '{restore}'")


def _capped_else_again(link):
    """`link` under the memory cap; a night that runs out of memory under it (a denser province than the cap was
    measured on) is linked again without it rather than stop the night: every output is rewritten whole and the
    state is kept in one transaction, so the second run is the whole result (`memory_cap_exceeded`)."""

    @functools.wraps(link)
    def run(con, as_of, **options) -> LinkageResult:
        import duckdb

        try:
            with _memory_capped(con, WORK_MEMORY_LIMIT):
                return link(con, as_of, **options)
        except duckdb.OutOfMemoryException:
            result = link(con, as_of, **options)
            result.memory_cap_exceeded = True
            return result

    return run


def _bytes(setting: str) -> float:
    """Bytes of a DuckDB size setting such as '3.2 GiB' or '3.5 GB'."""
    import re

    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?i?B)\s*", setting)
    if not match:
        return float("inf")
    number, unit = float(match.group(1)), match.group(2)
    powers = {"B": 0, "K": 1, "M": 2, "G": 3, "T": 4}
    return number * (1024 if "i" in unit else 1000) ** powers[unit[0]]


def _latest_decisions_sql(records: str, master: str) -> str:
    """The latest decision per pair, and whether it still stands: both sides unchanged since it was made."""
    return f"""
        select d.*, (
            d.pair_fingerprint is null
            or d.pair_fingerprint = md5({fingerprint_sql("r")} || {fingerprint_sql("m")})
        ) as stands
        from {DECISIONS_TABLE} as d
        left join {records} as r on r.source = d.source and r.source_record_id = d.source_record_id
        left join {master} as m on m.unique_id = d.personal_id
        qualify row_number() over (
            partition by d.source, d.source_record_id, d.personal_id order by d.decided_at desc
        ) = 1
    """


@_capped_else_again
def link_night(
    con,
    as_of: dt.date,
    *,
    model_path: Path | str | None = None,
    staging: str = "staging",
    holdout_size: int = 5000,
    reports_dir: Path | None = None,
    review_dir: Path | None = None,
    run_id: str | None = None,
    refresh_parameters: bool = False,
    rescore_all: bool = False,
) -> LinkageResult:
    """Run the night's probabilistic linkage in the warehouse connection `con`; write the output tables.

    With `run_id` (the night's run) the linkage keeps a state (`linkage_state.*`): the night-wide parameters
    are frozen from a committed night while they drift within tolerance, only pairs touching a changed record or
    master row are rescored, and tonight's state is kept for later nights (used once `meta.night_status` shows
    this run published the night). `refresh_parameters` computes tonight's own parameters (a full rescoring);
    `rescore_all` rescores every pair with the parameters chosen as usual. Without `run_id`: tonight's own
    parameters, a full rescoring, no state read or kept.

    DuckDB's memory is capped at WORK_MEMORY_LIMIT meanwhile (its scratch tables are in memory), and the night
    linked again without the cap if it runs out of memory under it (`_capped_else_again`).
    """
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
        views = splink_views(con, WORK_SCHEMA, master, records)
        params = None
        if run_id is not None:
            params = night_parameters(
                con, splink_model, meta, master, records, as_of, run_id, refresh=refresh_parameters
            )
            splink_model, tf_tables = params.apply(splink_model), params.tf_tables
            result.parameters_refreshed, result.parameters_reason = params.new, params.reason
        else:
            splink_model = scale_commune_u(scale_prior(splink_model, meta, result.master_rows), con, master)
        result.seconds["inputs"] = time.perf_counter() - clock

        clock = time.perf_counter()
        candidates = f"{WORK_SCHEMA}.candidates"
        base = None if params is None or rescore_all else base_night(con, params, as_of)
        if base is not None:
            changes = score_incremental(con, splink_model, master, records, base, candidates, tf_tables)
            result.candidate_pairs = con.execute(f"select count(*) from {candidates}").fetchone()[0]
            result.incremental, result.base_as_of = True, base.as_of.isoformat()
        else:
            if params is None:
                tf_tables = term_frequency_tables(con, splink_model, master, records)
            result.candidate_pairs = score(con, splink_model, *views, candidates, tf_tables=tf_tables)
            changes = {
                "records_changed": result.residue_rows,
                "master_changed": result.master_rows,
                "pairs_kept": 0,
                "pairs_scored": result.candidate_pairs,
            }
        for name, value in changes.items():
            setattr(result, name, int(value))
        result.seconds["predict"] = time.perf_counter() - clock

        clock = time.perf_counter()
        decisions = f"{WORK_SCHEMA}.decisions"
        con.execute(f"create or replace table {decisions} as {_latest_decisions_sql(records, master)}")
        rejected_cte = (
            f"select source, source_record_id, personal_id from {decisions} where decision = 'reject' and stands"
        )
        accepted_cte = f"select * from {decisions} where decision = 'accept' and stands"
        stale_cte = f"select source, source_record_id, personal_id, decision from {decisions} where not stands"
        presence = pair_presence(con, WORK_SCHEMA, staging, candidates, records, master)
        result.duplicate_share = {
            (source if role == source else f"{source}/{role}"): round(float(share), 6)
            for source, role, share in con.execute(
                f"select source, role, dup_share from {WORK_SCHEMA}.{PRESENCE_TABLE}_duplicates order by all"
            ).fetchall()
        }
        result.corroboration_bits = {
            source: round(float(bits), 3)
            for source, bits in con.execute(
                f"select source, bits from {WORK_SCHEMA}.{PRESENCE_TABLE}_corroboration order by all"
            ).fetchall()
        }
        scored = f"{WORK_SCHEMA}.scored"
        con.execute(f"create or replace table {scored} as {normalise_sql(candidates, rejected_cte, presence)}")
        result.seconds["normalise"] = time.perf_counter() - clock
        clock = time.perf_counter()
        result.rejected_pairs_excluded = con.execute(
            f"""select count(*) from {candidates} c join ({rejected_cte}) r
                on c.record_uid = r.source || ':' || r.source_record_id and c.personal_id = r.personal_id"""
        ).fetchone()[0]
        _write_outputs(
            con, scored, records, master, accepted_cte, stale_cte, thresholds, as_of, level_labels(splink_model)
        )
        remember_queue(con, as_of)
        result.decisions_shown_again = con.execute(
            f"select count(*) from {REVIEW_TABLE} where previous_decision is not null"
        ).fetchone()[0]
        counts = con.execute(
            f"""select count(*), count(*) filter (where link_basis = 'model'),
                       count(*) filter (where link_basis = 'review_accepted') from {LINKS_TABLE}"""
        ).fetchone()
        result.links_made, result.links_from_model, result.links_from_review = counts
        result.review_queue_pairs, result.review_queue_records = con.execute(
            f"select count(*), count(distinct (source, source_record_id)) from {REVIEW_TABLE}"
        ).fetchone()
        result.seconds["decide"] = time.perf_counter() - clock
        if review_dir is not None:
            clock = time.perf_counter()
            result.review_workbooks = [str(p) for p in write_workbooks(con, records, master, review_dir)]
            result.seconds["workbooks"] = time.perf_counter() - clock

        # the ID hold-out measures the model with a night's parameters: measured when they are computed, then
        # kept with them (a night that keeps the parameters shows the figures of the night that measured them)
        kept = kept_holdout(con, params.params_id) if params is not None and not params.new else None
        asked = {"size_asked": holdout_size, "thresholds": [thresholds.accept, thresholds.review]}
        if kept is not None and all(kept[0].get(k) == v for k, v in asked.items()):
            result.holdout, result.holdout_as_of = kept[0], kept[1].isoformat()
        elif holdout_size > 0:
            clock = time.perf_counter()
            result.holdout = holdout_evaluation(
                con, splink_model, thresholds, staging, WORK_SCHEMA, holdout_size, tf_tables=tf_tables
            )
            result.holdout.update(asked)
            result.holdout_as_of = as_of.isoformat()
            result.seconds["holdout"] = time.perf_counter() - clock
        if reports_dir is not None:
            from .charts import write_charts

            clock = time.perf_counter()
            result.charts = [str(p) for p in write_charts(splink_model, thresholds, result.holdout, reports_dir)]
            result.seconds["charts"] = time.perf_counter() - clock
        if params is not None:
            clock = time.perf_counter()
            mode = "incremental" if base is not None else "full"
            measured = result.holdout if result.holdout_as_of == as_of.isoformat() else None
            base_as_of = base.as_of if base is not None else None
            keep_state(con, as_of, run_id, params, master, records, candidates, mode, base_as_of, changes, measured)
            result.seconds["state"] = time.perf_counter() - clock
    finally:
        close_work(con)
    return result


# The presence and corroboration evidence in words (the review queue's `evidence_other_record`,
# `evidence_commune_elsewhere`)
OTHER_RECORD_LABELS = {
    True: "the candidate already has another record of this kind, linked by ID",
    False: "the candidate has no other record of this kind linked by ID",
}
COMMUNE_ELSEWHERE_LABEL = "another source's record of the candidate, linked by ID, is in the record's commune"


def _write_outputs(con, scored, records, master, accepted_cte, stale_cte, thresholds, as_of, labels) -> None:
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
            -- a record with a decision made before it (or its candidate) changed is shown again, not linked
            anti join ({stale_cte}) as stale
                on stale.source = s.source and stale.source_record_id = s.source_record_id
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
            case
                when s.other_records > 0 then '{OTHER_RECORD_LABELS[True]}'
                when s.other_records = 0 then '{OTHER_RECORD_LABELS[False]}'
            end as evidence_other_record,
            case when s.corroborated then '{COMMUNE_ELSEWHERE_LABEL.replace("'", "''")}' end
                as evidence_commune_elsewhere,
            {night} as as_of,
            md5({fingerprint_sql("r")} || {fingerprint_sql("m")}) as pair_fingerprint,
            stale.decision as previous_decision
        from {scored} as s
        join {records} as r on r.source = s.source and r.source_record_id = s.source_record_id
        join {master} as m on m.unique_id = s.personal_id
        left join ({stale_cte}) as stale
            on stale.source = s.source and stale.source_record_id = s.source_record_id
            and stale.personal_id = s.personal_id
        anti join {LINKS_TABLE} as l on l.source = s.source and l.source_record_id = s.source_record_id
        where (s.match_probability >= {thresholds.review} and s.match_probability < {thresholds.accept})
            or stale.decision is not null
            or (s.match_probability >= {thresholds.review} and exists (
                select 1 from ({stale_cte}) as again
                where again.source = s.source and again.source_record_id = s.source_record_id
            ))
        """
    )
