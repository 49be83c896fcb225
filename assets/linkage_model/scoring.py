"""Scoring: Splink's pairwise prediction on the blocked pairs, and the per-record probabilities."""

from __future__ import annotations

import json
from typing import Any

from .model import MASTER, make_linker

WORK_SCHEMA = "linkage_work"

# Candidates below this pairwise probability cannot matter for a record's normalised probability.
CANDIDATE_FLOOR = 0.001

COMPARISON_NAMES = (
    "family_name",
    "middle_name",
    "given_name",
    "birth_date",
    "sex",
    "commune",
    "mother",
    "father",
    "spouse",
    "death",
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


def scale_commune_u(splink_model: dict[str, Any], con, master: str) -> dict[str, Any]:
    """Set u of 'same commune' to tonight's chance that two master people share a commune (Σ share²).

    The model may be trained on a few communes (u ≈ 1/2) and run on a province of a hundred (u ≈ 1/100): the
    evidence of a shared commune depends on how many communes there are, not on the training set.
    """
    same = con.execute(
        f"""select sum(share * share) from (
                select count(*) / sum(count(*)) over () as share
                from {master} where commune_code is not null group by commune_code
            )"""
    ).fetchone()[0]
    if not same:
        return splink_model
    scaled = json.loads(json.dumps(splink_model))
    for comparison in scaled["comparisons"]:
        if comparison["output_column_name"] != "commune":
            continue
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            level["u_probability"] = float(same) if level.get("label_for_charts") == "same" else 1.0 - float(same)
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


def tf_columns(splink_model: dict[str, Any]) -> list[str]:
    """The columns whose term frequencies the model's levels use."""
    return sorted(
        {
            level["tf_adjustment_column"]
            for comparison in splink_model["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )


def term_frequency_tables(con, splink_model: dict[str, Any], master: str, records: str) -> dict[str, str]:
    """Tonight's term-frequency lookups over master + residue, as Splink computes them; {column: table}.

    Kept in the work schema so that the ID hold-out is scored with the night's frequencies (and need not
    re-read the whole master to compute them again).
    """
    tables = {}
    for column in tf_columns(splink_model):
        table = f"tf_{column}"
        con.execute(
            f"""
            create or replace table {WORK_SCHEMA}.{table} as
            with both_inputs as (
                select {column} from {master} union all select {column} from {records}
            )
            select {column}, cast(count(*) as float8) / (select count({column}) from both_inputs) as tf_{column}
            from both_inputs
            where {column} is not null
            group by {column}
            """
        )
        tables[column] = table
    return tables


def score(
    con,
    splink_model: dict[str, Any],
    master_view: str,
    records_view: str,
    out_table: str,
    tf_tables: dict[str, str] | None = None,
) -> int:
    """Score blocked pairs; write (record_uid, personal_id, match_weight, gammas) to `out_table`.

    `tf_tables` ({column: table in the work schema}) are used as the term-frequency lookups instead of
    Splink computing them from the two inputs.
    """
    from splink import DuckDBAPI

    # its own cursor (DuckDB 2 allows one open result per cursor), its work tables in the work schema
    db_api = DuckDBAPI(con.cursor(), output_schema=WORK_SCHEMA)
    # the gamma columns (the review queue's evidence) are kept only with the matching columns
    settings = {**splink_model, "retain_matching_columns": True}
    linker = make_linker(db_api, master_view, records_view, settings)
    for column, table in (tf_tables or {}).items():
        linker.table_management.register_term_frequency_lookup(db_api.register(table), column)
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
