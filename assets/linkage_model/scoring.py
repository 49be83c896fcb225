"""Scoring: Splink's pairwise prediction on the blocked pairs, and the per-record probabilities."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
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


def commune_same_share(con, master: str) -> float | None:
    """Tonight's chance that two master people share a commune (Σ share²), None without communes."""
    same = con.execute(
        f"""select sum(share * share) from (
                select count(*) / sum(count(*)) over () as share
                from {master} where commune_code is not null group by commune_code
            )"""
    ).fetchone()[0]
    return float(same) if same else None


def set_commune_u(splink_model: dict[str, Any], same: float | None) -> dict[str, Any]:
    """The model with u of 'same commune' set to `same` (and of 'different' to 1 - same)."""
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


def scale_commune_u(splink_model: dict[str, Any], con, master: str) -> dict[str, Any]:
    """Set u of 'same commune' to tonight's chance that two master people share a commune (Σ share²).

    The model may be trained on a few communes (u ≈ 1/2) and run on a province of a hundred (u ≈ 1/100): the
    evidence of a shared commune depends on how many communes there are, not on the training set.
    """
    return set_commune_u(splink_model, commune_same_share(con, master))


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


def term_frequency_tables(
    con, splink_model: dict[str, Any], master: str, records: str, prefix: str = "tf_"
) -> dict[str, str]:
    """Tonight's term-frequency lookups over master + residue, as Splink computes them; {column: table}.

    Kept in the work schema so that the ID hold-out is scored with the night's frequencies (and need not
    re-read the whole master to compute them again).
    """
    tables = {}
    for column in tf_columns(splink_model):
        table = f"{prefix}{column}"
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


# --- the kept linkage state: frozen night-wide parameters and the last committed nights' scored pairs ---------
#
# With the night-wide parameters frozen (term frequencies of the name columns, λ, u of 'same commune'), a pair's
# match weight is a pure function of the two rows Splink compares. A night then rescores only the pairs touching a
# record or master row whose compared fields changed (`input_hash`) since a committed night whose pairs were kept
# with the same parameters, and keeps that night's other pairs: the candidates are exactly those of a full
# rescoring with the same parameters. Normalisation, thresholds, decisions and outputs then run in full.

STATE_SCHEMA = "linkage_state"
USABLE_STATUSES = ("published", "complete")  # as assets.night.USABLE: a night whose marts are whole

# Drift of tonight's own parameters from the frozen ones beyond which they are refreshed (a full rescoring):
# λ is inversely proportional to the master's size and u of 'same commune' is Σ share², so ±2 % moves every
# pair's weight by at most log2(1.02) ≈ 0.03 bit (the accept threshold 0.95 is ~4.2 bits of odds from 0.5);
# a name column's term frequencies move at most 1/N of their mass per changed row, and a total variation of
# 2 % (about two nights of a province's 1 % churn) bounds how much of the names' mass has a stale frequency.
MAX_MASTER_DRIFT = 0.02
MAX_COMMUNE_U_DRIFT = 0.02
MAX_TF_VARIATION = 0.02
KEEP_NIGHTS = 2  # committed nights whose pairs are kept besides tonight's (a rerun of one of them rescores ~0)

STATE_DDL = (
    f"create schema if not exists {STATE_SCHEMA}",
    f"""create table if not exists {STATE_SCHEMA}.params (
        params_id varchar primary key, model_hash varchar not null, master_rows bigint, prior double,
        commune_u double, created_as_of date, created_at timestamp)""",
    f"""create table if not exists {STATE_SCHEMA}.term_frequencies (
        params_id varchar not null, column_name varchar not null, value varchar, tf double)""",
    f"""create table if not exists {STATE_SCHEMA}.nights (
        as_of date primary key, run_id varchar, params_id varchar not null, mode varchar, base_as_of date,
        records_changed bigint, master_changed bigint, pairs_kept bigint, pairs_scored bigint,
        rows_kept boolean, written_at timestamp)""",
    f"create table if not exists {STATE_SCHEMA}.records (as_of date not null, unique_id varchar, input_hash uhugeint)",
    f"create table if not exists {STATE_SCHEMA}.master (as_of date not null, unique_id varchar, input_hash uhugeint)",
)


@dataclass
class NightParameters:
    """The night-wide parameters a night scores with, and where they come from."""

    params_id: str
    model_hash: str
    master_rows: int
    prior: float
    commune_u: float | None
    tf_tables: dict[str, str]  # column -> table in the work schema (`{column}`, `tf_{column}`)
    new: bool  # computed tonight: kept with tonight's state
    reason: str  # why these (no secrets, no data)

    def apply(self, splink_model: dict[str, Any]) -> dict[str, Any]:
        scaled = set_commune_u(splink_model, self.commune_u)
        return {**scaled, "probability_two_random_records_match": self.prior}


def model_hash(splink_model: dict[str, Any], meta: dict[str, Any]) -> str:
    """What a pair's score depends on in the model file: Splink's settings and the training master's size."""
    trained = (meta.get("trained_on") or {}).get("master_rows")
    body = json.dumps({"splink_model": splink_model, "trained_master_rows": trained}, sort_keys=True)
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def ensure_state(con) -> None:
    for statement in STATE_DDL:
        con.execute(statement)


def committed_nights_sql(model: str) -> str:
    """The nights whose kept linkage state is committed (its own run published the night) for model `model`."""
    statuses = ", ".join(f"'{s}'" for s in USABLE_STATUSES)
    return f"""
        select n.*, p.model_hash
        from {STATE_SCHEMA}.nights as n
        join {STATE_SCHEMA}.params as p using (params_id)
        join meta.night_status as s
            on s.as_of = n.as_of and s.run_id = n.run_id and s.status in ({statuses})
        where p.model_hash = '{model}'
    """


def _has_table(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and database_name = "
            "current_database()",
            [schema, table],
        ).fetchone()[0]
    )


def _committed(con, model: str) -> list[tuple]:
    """(as_of, params_id, rows_kept) of committed nights for this model, newest first."""
    if not (_has_table(con, STATE_SCHEMA, "nights") and _has_table(con, "meta", "night_status")):
        return []
    return con.execute(
        f"select as_of, params_id, rows_kept from ({committed_nights_sql(model)}) order by as_of desc"
    ).fetchall()


def night_parameters(
    con,
    splink_model: dict[str, Any],
    meta: dict[str, Any],
    master: str,
    records: str,
    as_of,
    run_id: str,
    refresh: bool = False,
) -> NightParameters:
    """Tonight's night-wide parameters: a committed night's frozen ones while tonight's drift within tolerance.

    A rerun of a committed night uses the parameters it used then (its outputs again). Otherwise the parameters
    of the latest committed night before tonight (else the earliest after) are kept unless tonight's own differ
    beyond MAX_*; tonight's own are computed (and kept) when there is no state, the model changed, they drifted,
    or `refresh` asks for it.
    """
    digest = model_hash(splink_model, meta)
    master_rows = con.execute(f"select count(*) from {master}").fetchone()[0]
    same = commune_same_share(con, master)
    tonight_tf = term_frequency_tables(con, splink_model, master, records, prefix="tonight_tf_")
    prior = scale_prior(splink_model, meta, master_rows)["probability_two_random_records_match"]

    def fresh(reason: str) -> NightParameters:
        return NightParameters(
            f"{as_of.isoformat()}/{run_id}", digest, master_rows, prior, same, tonight_tf, True, reason
        )

    if refresh:
        return fresh("refresh asked")
    committed = _committed(con, digest)
    if not committed:
        return fresh("no committed linkage state for this model")
    own = [row for row in committed if row[0] == as_of]
    if own:
        return _load_parameters(con, own[0][1], f"the night's own parameters (rerun of {as_of})")
    before = [row for row in committed if row[0] < as_of]
    night, params_id, _ = before[0] if before else committed[-1]
    kept = _load_parameters(con, params_id, f"kept from night {night}")
    drift = []
    if not kept.master_rows or abs(master_rows / kept.master_rows - 1) > MAX_MASTER_DRIFT:
        drift.append(f"master size {kept.master_rows} -> {master_rows}")
    if (same is None) != (kept.commune_u is None) or (
        same is not None and abs(same / kept.commune_u - 1) > MAX_COMMUNE_U_DRIFT
    ):
        drift.append("commune u")
    for column, table in tonight_tf.items():
        variation = con.execute(
            f"""select coalesce(sum(abs(coalesce(t.tf_{column}, 0) - coalesce(k.tf_{column}, 0))) / 2, 0)
                from {WORK_SCHEMA}.{table} as t
                full join {WORK_SCHEMA}.{kept.tf_tables[column]} as k using ({column})"""
        ).fetchone()[0]
        if variation > MAX_TF_VARIATION:
            drift.append(f"{column} frequencies (total variation {variation:.4f})")
    if drift:
        return fresh(f"parameters of night {night} drifted: {', '.join(drift)}")
    return kept


def _load_parameters(con, params_id: str, reason: str) -> NightParameters:
    row = con.execute(
        f"select model_hash, master_rows, prior, commune_u from {STATE_SCHEMA}.params where params_id = ?",
        [params_id],
    ).fetchone()
    columns = [
        r[0]
        for r in con.execute(
            f"select distinct column_name from {STATE_SCHEMA}.term_frequencies where params_id = ? order by 1",
            [params_id],
        ).fetchall()
    ]
    tables = {}
    for column in columns:
        table = f"kept_tf_{column}"
        con.execute(
            f"""create or replace table {WORK_SCHEMA}.{table} as
                select value as {column}, tf as tf_{column} from {STATE_SCHEMA}.term_frequencies
                where params_id = ? and column_name = ?""",
            [params_id, column],
        )
        tables[column] = table
    return NightParameters(params_id, row[0], row[1], row[2], row[3], tables, False, reason)


def base_night(con, params: NightParameters, as_of) -> Any:
    """The committed night with kept pairs scored with these parameters closest to tonight (None: full)."""
    rows = [
        row
        for row in _committed(con, params.model_hash)
        if row[1] == params.params_id and row[2] and _has_table(con, STATE_SCHEMA, "candidates")
    ]
    if not rows:
        return None
    return min(rows, key=lambda r: (r[0] != as_of, r[0] > as_of, abs((r[0] - as_of).days)))[0]


def score_incremental(
    con,
    splink_model: dict[str, Any],
    master: str,
    records: str,
    base_as_of,
    out_table: str,
    tf_tables: dict[str, str],
) -> dict[str, int]:
    """The base night's pairs whose sides are unchanged, plus Splink's predict of what changed; counts."""
    from .features import splink_views

    w, s = WORK_SCHEMA, STATE_SCHEMA
    base = f"date '{base_as_of.isoformat()}'"
    for side, table, kept in (("records", records, "records"), ("master", master, "master")):
        con.execute(
            f"""create or replace table {w}.{side}_same as
                select t.* from {table} as t
                semi join (select unique_id, input_hash from {s}.{kept} where as_of = {base}) as k
                    on k.unique_id = t.unique_id and k.input_hash = t.input_hash"""
        )
        con.execute(
            f"create or replace table {w}.{side}_changed as select * from {table} anti join {w}.{side}_same using "
            "(unique_id)"
        )
    con.execute(
        f"""create or replace table {out_table} as
            select c.* exclude (as_of) from {s}.candidates as c
            semi join {w}.records_same as r on r.unique_id = c.record_uid
            semi join {w}.master_same as m on m.unique_id = c.personal_id
            where c.as_of = {base}"""
    )
    counts = {
        "records_changed": con.execute(f"select count(*) from {w}.records_changed").fetchone()[0],
        "master_changed": con.execute(f"select count(*) from {w}.master_changed").fetchone()[0],
        "pairs_kept": con.execute(f"select count(*) from {out_table}").fetchone()[0],
        "pairs_scored": 0,
    }
    records_same = con.execute(f"select count(*) from {w}.records_same").fetchone()[0]
    parts = []
    if counts["records_changed"]:  # changed records x the whole master
        parts.append(("_rc", master, f"{w}.records_changed"))
    if counts["master_changed"] and records_same:  # unchanged records x changed master rows
        parts.append(("_mc", f"{w}.master_changed", f"{w}.records_same"))
    for suffix, left, right in parts:
        views = splink_views(con, w, left, right, suffix=suffix)
        counts["pairs_scored"] += score(con, splink_model, *views, f"{w}.scored{suffix}", tf_tables=tf_tables)
        con.execute(f"insert into {out_table} by name select * from {w}.scored{suffix}")
    return counts


def keep_state(
    con,
    as_of,
    run_id: str,
    params: NightParameters,
    master: str,
    records: str,
    candidates: str,
    mode: str,
    base_as_of,
    counts: dict[str, int],
) -> None:
    """Keep tonight's state in one transaction (used by a later night only once this run commits the night)."""
    import datetime as dt

    s = STATE_SCHEMA
    ensure_state(con)
    con.execute("begin transaction")
    try:
        con.execute(
            f"create table if not exists {s}.candidates as "
            f"select cast(null as date) as as_of, * from {candidates} limit 0"
        )
        if params.new:
            con.execute(f"delete from {s}.term_frequencies where params_id = ?", [params.params_id])
            con.execute(f"delete from {s}.params where params_id = ?", [params.params_id])
            con.execute(
                f"insert into {s}.params values (?, ?, ?, ?, ?, ?, ?)",
                [
                    params.params_id,
                    params.model_hash,
                    params.master_rows,
                    params.prior,
                    params.commune_u,
                    as_of,
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                ],
            )
            for column, table in params.tf_tables.items():
                con.execute(
                    f"""insert into {s}.term_frequencies
                        select ?, ?, {column}, tf_{column} from {WORK_SCHEMA}.{table}""",
                    [params.params_id, column],
                )
        for table in ("nights", "records", "master", "candidates"):
            con.execute(f"delete from {s}.{table} where as_of = ?", [as_of])
        con.execute(
            f"insert into {s}.nights values (?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?)",
            [
                as_of,
                run_id,
                params.params_id,
                mode,
                base_as_of,
                counts.get("records_changed"),
                counts.get("master_changed"),
                counts.get("pairs_kept"),
                counts.get("pairs_scored"),
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ],
        )
        night = f"date '{as_of.isoformat()}'"
        con.execute(f"insert into {s}.records select {night}, unique_id, input_hash from {records}")
        con.execute(f"insert into {s}.master select {night}, unique_id, input_hash from {master}")
        con.execute(f"insert into {s}.candidates by name select {night} as as_of, * from {candidates}")
        _purge(con, as_of)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _purge(con, as_of) -> None:
    """Drop the rows of nights neither tonight nor among the KEEP_NIGHTS latest committed; unused parameters."""
    s = STATE_SCHEMA
    committed = []
    if _has_table(con, "meta", "night_status"):
        statuses = ", ".join(f"'{x}'" for x in USABLE_STATUSES)
        committed = [
            r[0]
            for r in con.execute(
                f"""select n.as_of from {s}.nights as n join meta.night_status as st
                    on st.as_of = n.as_of and st.run_id = n.run_id and st.status in ({statuses})
                    where n.as_of <> ? order by n.as_of desc""",
                [as_of],
            ).fetchall()
        ]
    keep = [as_of, *committed[:KEEP_NIGHTS]]
    listed = ", ".join(f"date '{d.isoformat()}'" for d in keep)
    # a night not committed (failed, killed, or never published) is of no use to a later night
    committed_list = ", ".join(f"date '{d.isoformat()}'" for d in [as_of, *committed])
    con.execute(f"delete from {s}.nights where as_of not in ({committed_list})")
    con.execute(f"update {s}.nights set rows_kept = false where as_of not in ({listed})")
    for table in ("records", "master", "candidates"):
        con.execute(f"delete from {s}.{table} where as_of not in ({listed})")
    con.execute(f"delete from {s}.term_frequencies where params_id not in (select params_id from {s}.nights)")
    con.execute(f"delete from {s}.params where params_id not in (select params_id from {s}.nights)")
