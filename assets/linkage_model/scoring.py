"""Scoring: Splink's pairwise prediction on the blocked pairs, and the per-record probabilities."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .model import MASTER, make_linker

# The night's scratch tables (inputs, Splink's tables, candidates) live in an in-memory database attached to the
# warehouse connection for the linkage's duration: they are dropped at its end, so writing them to the warehouse
# file (compression, checkpoint) was a third of building them. DuckDB's memory is capped meanwhile (predict.py).
WORK_DB = "linkage_mem"
WORK_SCHEMA = f"{WORK_DB}.work"


def open_work(con, schema: str = WORK_SCHEMA) -> None:
    """Attach the in-memory work database if `schema` is in it and not attached yet; create `schema`."""
    database = schema.split(".")[0] if "." in schema else None
    if (
        database
        and not con.execute("select count(*) from duckdb_databases() where database_name = ?", [database]).fetchone()[0]
    ):
        con.execute(f"attach ':memory:' as {database}")
    con.execute(f"create schema if not exists {schema}")


def close_work(con, schema: str = WORK_SCHEMA) -> None:
    """Drop the work schema; detach the in-memory work database (its memory is freed)."""
    database = schema.split(".")[0] if "." in schema else None
    if database is None:
        con.execute(f"drop schema if exists {schema} cascade")
    elif con.execute("select count(*) from duckdb_databases() where database_name = ?", [database]).fetchone()[0]:
        con.execute(f"detach database {database}")


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


# The presence evidence: whether the candidate already has a record of the kind (a source; for civil, one entry
# type) that an ID links. A person has one such record, seldom two. For a record's true person another
# ID-linked record of the kind is a duplicate: share `d`, measured on tonight's residue itself, among the records
# the other evidence links beyond doubt (best candidate >= PRESENCE_CONFIDENT without this evidence). For a
# namesake it is the kind's coverage of people born that year: share `c`. A pair's odds are multiplied by d / c
# when its candidate has one and by (1 - d) / (1 - c) when not, only ever toward "one record per person" (never a
# boost for having a record, never a penalty for having none).
PRESENCE_DUPLICATE_FLOOR = 0.005  # the least duplicate share assumed, whatever tonight's records show
PRESENCE_CONFIDENT = 0.99  # the records whose duplicate share is measured: linked beyond doubt without it
PRESENCE_SMOOTHING = 50  # people: a birth year's coverage is shrunk toward the kind's over all years by this many
PRESENCE_TABLE = "lk_presence"


def odds_sql(weight: str) -> str:
    """A weight's odds, 2 ^ weight, capped at 2 ^ 60 (the per-record normalisation's and the evidence's)."""
    return f"pow(2.0, least({weight}, 60))"


def presence_rates_sql(presence: str, master: str) -> str:
    """Per (source, role, birth year of the master): `share` (c), the people an ID links a record of the kind to."""
    return f"""
    with groups as (
        select source, role, count(*) as people from {presence} group by source, role
    ),
    people as (
        select unique_id, min(birth_year) as birth_year from {master} group by unique_id
    ),
    years as (
        select birth_year, count(*) as people from people group by birth_year
    ),
    total as (
        select count(*) as people from people
    ),
    linked as (
        select p.source, p.role, people.birth_year, count(*) as people
        from {presence} as p
        join people on people.unique_id = p.personal_id
        group by all
    )
    select
        g.source,
        g.role,
        y.birth_year,
        (coalesce(l.people, 0) + {PRESENCE_SMOOTHING} * least(g.people / total.people, 1))
            / (y.people + {PRESENCE_SMOOTHING}) as share
    from groups as g
    cross join years as y
    cross join total
    left join linked as l
        on l.source = g.source and l.role = g.role and l.birth_year is not distinct from y.birth_year
    """


def counted_pairs_sql(
    candidates: str, records: str, presence: str, by_commune: str, master: str, own: str | None
) -> str:
    """Per candidate pair: what the evidence beside Splink's reads.

    The record's kind, the candidate's birth year, `other_records` of the kind the candidate has, whether the
    record's commune (another than the candidate's in the master) holds an ID-linked record of the candidate in
    another source (`corroborated`), and the pair's probability without either evidence (`base_probability`,
    `is_best`). `own` names the records' column holding the person their own ID links them to (the ID hold-out),
    whose record is then not counted as another one.
    """
    own_record = f"case when r.{own} = c.personal_id then 1 else 0 end" if own else "0"
    return f"""
    with pairs as (
        select c.record_uid, c.personal_id, c.match_weight, c.gamma_commune, r.source, r.role,
            r.commune_code as record_commune, {own_record} as own_record,
            {odds_sql("c.match_weight")}
                / (1 + sum({odds_sql("c.match_weight")}) over (partition by c.record_uid)) as base_probability,
            row_number() over (partition by c.record_uid order by c.match_weight desc, c.personal_id) = 1 as is_best
        from {candidates} as c
        join {records} as r on r.unique_id = c.record_uid
    ),
    people as (
        select unique_id, min(birth_year) as birth_year
        from {master}
        where unique_id in (select personal_id from pairs)
        group by unique_id
    ),
    corroborating as (
        select distinct pairs.record_uid, pairs.personal_id
        from pairs
        join {by_commune} as elsewhere
            on elsewhere.personal_id = pairs.personal_id
            and elsewhere.commune_code = pairs.record_commune
            and elsewhere.source <> pairs.source
        where pairs.gamma_commune = 0
    )
    select pairs.record_uid, pairs.personal_id, pairs.source, pairs.role, pairs.gamma_commune,
        pairs.base_probability, pairs.is_best, people.birth_year,
        coalesce(p.n, 0) - pairs.own_record as other_records,
        corroborating.record_uid is not null as corroborated
    from pairs
    left join {presence} as p
        on p.source = pairs.source and p.role = pairs.role and p.personal_id = pairs.personal_id
    left join people on people.unique_id = pairs.personal_id
    left join corroborating
        on corroborating.record_uid = pairs.record_uid and corroborating.personal_id = pairs.personal_id
    """


def duplicate_share_sql(counted: str) -> str:
    """Per (source, role): `dup_share` (d), the records linked beyond doubt whose person has another of the kind."""
    return f"""
    select source, role, count(*) as confident_records,
        greatest(avg(case when other_records > 0 then 1.0 else 0.0 end), {PRESENCE_DUPLICATE_FLOOR}) as dup_share
    from {counted}
    where is_best and base_probability >= {PRESENCE_CONFIDENT}
    group by source, role
    """


# The corroboration evidence: a record whose commune is not the candidate's in the master (the person moved, or
# it is a namesake) is likelier the candidate's when another source's ID-linked record of the candidate is in that
# commune too. `q`: how often that is so for the records linked beyond doubt whose commune differs (movers whom
# the other evidence names); `u`: how often for the pairs almost surely not a match (probability < 1 %), at least
# CORROBORATION_U_FLOOR. A corroborated pair's odds are multiplied by q / u; an uncorroborated pair's are left as
# they are. Measured per source only where CORROBORATION_MIN_RECORDS confident movers show q.
CORROBORATION_U_FLOOR = 0.001
CORROBORATION_MIN_RECORDS = 20


def corroboration_rates_sql(counted: str) -> str:
    """Per source: `q`, `u` and `bits` (log2 q / u, at least 0) of the corroboration evidence, and its records."""
    return f"""
    select
        source,
        count(*) filter (where is_best and base_probability >= {PRESENCE_CONFIDENT}) as confident_movers,
        avg(case when corroborated then 1.0 else 0.0 end)
            filter (where is_best and base_probability >= {PRESENCE_CONFIDENT}) as q,
        greatest(
            coalesce(avg(case when corroborated then 1.0 else 0.0 end) filter (where base_probability < 0.01), 0),
            {CORROBORATION_U_FLOOR}
        ) as u,
        log2(greatest(1.0, q / u)) as bits
    from {counted}
    where gamma_commune = 0
    group by source
    having count(*) filter (where is_best and base_probability >= {PRESENCE_CONFIDENT}) >= {CORROBORATION_MIN_RECORDS}
    """


def presence_weight_sql(counted: str, rates: str, duplicates: str, corroboration: str) -> str:
    """Per candidate pair: the presence and corroboration evidence, in bits (0 where not measured)."""
    return f"""
    select
        c.record_uid,
        c.personal_id,
        c.other_records,
        c.corroborated,
        -- no weight where the kind's coverage or duplicate share is not measured (greatest() skips a NULL)
        case
            when r.share is null or d.dup_share is null then 0
            when c.other_records > 0 then log2(least(1.0, d.dup_share / r.share))
            else log2(greatest(1.0, (1 - d.dup_share) / greatest(1 - r.share, 0.001)))
        end as presence_weight,
        case when c.corroborated then coalesce(k.bits, 0) else 0 end as corroboration_weight
    from {counted} as c
    left join {rates} as r
        on r.source = c.source and r.role = c.role and r.birth_year is not distinct from c.birth_year
    left join {duplicates} as d
        on d.source = c.source and d.role = c.role
    left join {corroboration} as k
        on k.source = c.source
    """


def pair_presence(
    con, schema: str, staging: str, candidates: str, records: str, master: str, own: str | None = None
) -> str:
    """Materialise the presence and corroboration evidence of `candidates` (`<candidates>_presence`); its name.

    The ID-linked people (`<schema>.lk_presence`, and per commune `lk_presence_by_commune`), their coverage, the
    duplicate share and the corroboration rates are measured once per work schema, on its first call: the night's
    residue (the ID hold-out, scored later, reuses them).
    """
    from .features import id_linked_sql

    presence = f"{schema}.{PRESENCE_TABLE}"
    by_commune, rates = f"{presence}_by_commune", f"{presence}_rates"
    duplicates, corroboration = f"{presence}_duplicates", f"{presence}_corroboration"
    measured = _has_table(con, schema, f"{PRESENCE_TABLE}_corroboration")
    if not measured:
        con.execute(f"create or replace table {by_commune} as {id_linked_sql(staging)}")
        con.execute(
            f"create or replace table {presence} as "
            f"select source, role, personal_id, sum(n) as n from {by_commune} group by all"
        )
        con.execute(f"create or replace table {rates} as {presence_rates_sql(presence, master)}")
    counted = f"{candidates}_counted"
    sql = counted_pairs_sql(candidates, records, presence, by_commune, master, own)
    con.execute(f"create or replace table {counted} as {sql}")
    if not measured:
        con.execute(f"create or replace table {duplicates} as {duplicate_share_sql(counted)}")
        con.execute(f"create or replace table {corroboration} as {corroboration_rates_sql(counted)}")
    out = f"{candidates}_presence"
    con.execute(f"create or replace table {out} as {presence_weight_sql(counted, rates, duplicates, corroboration)}")
    con.execute(f"drop table {counted}")
    return out


def normalise_sql(
    candidates: str,
    decisions_cte: str = "select * from (select null::varchar as source, "
    "null::varchar as source_record_id, null::varchar as personal_id) where false",
    presence: str | None = None,
) -> str:
    """Per-record probabilities under 'a record is at most one master person': o_i / (1 + sum_j o_j).

    `o_i` is a pair's posterior odds (2 ^ match_weight, the model's prior included), times the presence and
    corroboration evidence (2 ^ evidence_weight, `pair_presence`) where `presence` is given. A namesake in another
    commune thus takes probability away from the right person in proportion to its own evidence; two equally
    good candidates each get less than one half and go to review instead of being linked.
    """
    if presence is None:
        presence_join = ""
        presence_cols = (
            "0.0 as evidence_weight, cast(null as bigint) as other_records, cast(null as boolean) as corroborated"
        )
    else:
        presence_join = f"""
        left join {presence} as pp on pp.record_uid = kept.record_uid and pp.personal_id = kept.personal_id"""
        presence_cols = (
            "coalesce(pp.presence_weight, 0.0) + coalesce(pp.corroboration_weight, 0.0) as evidence_weight, "
            "pp.other_records, pp.corroborated"
        )
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
    weighed as (
        select kept.*, {presence_cols}
        from kept{presence_join}
    ),
    odds as (
        select *, {odds_sql("match_weight + evidence_weight")} as pair_odds from weighed
    )
    select
        *,
        pair_odds / (1 + sum(pair_odds) over (partition by source, source_record_id)) as match_probability,
        row_number() over (
            partition by source, source_record_id order by match_weight + evidence_weight desc, personal_id
        ) as candidate_rank,
        count(*) over (partition by source, source_record_id) as n_candidates
    from odds
    """


def neighbours_sql(splink_model: dict[str, Any], rows: str, other: str) -> str:
    """The rows of `rows` that some blocking rule pairs with a row of `other` (the only ones Splink can score
    against `other`). The model's rules are symmetric in l and r: `rows` is l, `other` is r."""
    rules = [rule["blocking_rule"] for rule in splink_model["blocking_rules_to_generate_predictions"]]
    exists = "\n        or ".join(f"exists (select 1 from {other} as r where {rule})" for rule in rules)
    return f"select l.* from {rows} as l\n    where {exists}"


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

# The state's layout: a warehouse whose state has another is dropped and rebuilt (the state is a cache of what
# the next night would compute anyway; the first night after costs a full rescoring).
STATE_LAYOUT = 2
STATE_DDL = (
    f"create schema if not exists {STATE_SCHEMA}",
    f"create table if not exists {STATE_SCHEMA}.layout (version integer)",
    f"""create table if not exists {STATE_SCHEMA}.params (
        params_id varchar primary key, model_hash varchar not null, master_rows bigint, prior double,
        commune_u double, created_as_of date, created_at timestamp, holdout varchar, holdout_as_of date)""",
    f"""create table if not exists {STATE_SCHEMA}.term_frequencies (
        params_id varchar not null, column_name varchar not null, value varchar, tf double)""",
    # one row per (night, run): a rerun of a night keeps its own state beside the one its night published, so a
    # rerun killed before it publishes leaves the published state usable
    f"""create table if not exists {STATE_SCHEMA}.nights (
        as_of date not null, run_id varchar not null, params_id varchar not null, mode varchar, base_as_of date,
        records_changed bigint, master_changed bigint, pairs_kept bigint, pairs_scored bigint,
        rows_kept boolean, written_at timestamp, committed_at timestamp, primary key (as_of, run_id))""",
    f"""create table if not exists {STATE_SCHEMA}.records (
        as_of date not null, run_id varchar not null, unique_id varchar, input_hash ubigint)""",
    f"""create table if not exists {STATE_SCHEMA}.master (
        as_of date not null, run_id varchar not null, unique_id varchar, input_hash ubigint)""",
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
    """Create the state's tables; drop a state of another layout first."""
    if _has_table(con, STATE_SCHEMA, "nights"):
        version = (
            con.execute(f"select max(version) from {STATE_SCHEMA}.layout").fetchone()[0]
            if _has_table(con, STATE_SCHEMA, "layout")
            else None
        )
        if version != STATE_LAYOUT:
            con.execute(f"drop schema {STATE_SCHEMA} cascade")
    for statement in STATE_DDL:
        con.execute(statement)
    if not con.execute(f"select count(*) from {STATE_SCHEMA}.layout").fetchone()[0]:
        con.execute(f"insert into {STATE_SCHEMA}.layout values ({STATE_LAYOUT})")


def commit_state(con, as_of, run_id: str) -> None:
    """This run has published the night's marts: its kept linkage state becomes usable by later runs (call it in
    the transaction that marks the night published)."""
    has_marker = con.execute(
        "select count(*) from duckdb_columns() where schema_name = ? and table_name = 'nights' "
        "and column_name = 'committed_at' and database_name = current_database()",
        [STATE_SCHEMA],
    ).fetchone()[0]
    if has_marker:
        con.execute(
            f"update {STATE_SCHEMA}.nights set committed_at = now() where as_of = ? and run_id = ?", [as_of, run_id]
        )


def committed_nights_sql(model: str) -> str:
    """Per night, the latest run whose kept linkage state is committed, for model `model`.

    A run's state is committed once the run published the night (`committed_at`, set with the publication), or
    while `meta.night_status` names the run as the night's usable one.
    """
    statuses = ", ".join(f"'{s}'" for s in USABLE_STATUSES)
    return f"""
        select n.*, p.model_hash
        from {STATE_SCHEMA}.nights as n
        join {STATE_SCHEMA}.params as p using (params_id)
        left join meta.night_status as s
            on s.as_of = n.as_of and s.run_id = n.run_id and s.status in ({statuses})
        where p.model_hash = '{model}' and (n.committed_at is not null or s.run_id is not null)
        qualify row_number() over (partition by n.as_of order by coalesce(n.committed_at, n.written_at) desc) = 1
    """


def _has_table(con, schema: str, table: str) -> bool:
    """Whether `schema.table` exists; `schema` may be qualified by its database (`linkage_mem.work`)."""
    database, _, schema = schema.rpartition(".")
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and database_name = "
            "coalesce(nullif(?, ''), current_database())",
            [schema, table, database],
        ).fetchone()[0]
    )


def _committed(con, model: str) -> list[tuple]:
    """(as_of, params_id, rows_kept, run_id) of committed nights for this model, newest first."""
    if not (_has_table(con, STATE_SCHEMA, "nights") and _has_table(con, "meta", "night_status")):
        return []
    return con.execute(
        f"select as_of, params_id, rows_kept, run_id from ({committed_nights_sql(model)}) order by as_of desc"
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
    ensure_state(con)
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
    night, params_id, _, _ = before[0] if before else committed[-1]
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


@dataclass(frozen=True)
class KeptNight:
    """A committed night's kept state: the night and the run that published it."""

    as_of: Any
    run_id: str

    def where(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        run = self.run_id.replace("'", "''")
        return f"{prefix}as_of = date '{self.as_of.isoformat()}' and {prefix}run_id = '{run}'"


def base_night(con, params: NightParameters, as_of) -> KeptNight | None:
    """The committed night with kept pairs scored with these parameters closest to tonight (None: full)."""
    rows = [
        row
        for row in _committed(con, params.model_hash)
        if row[1] == params.params_id and row[2] and _has_table(con, STATE_SCHEMA, "candidates")
    ]
    if not rows:
        return None
    night = min(rows, key=lambda r: (r[0] != as_of, r[0] > as_of, abs((r[0] - as_of).days)))
    return KeptNight(night[0], night[3])


def score_incremental(
    con,
    splink_model: dict[str, Any],
    master: str,
    records: str,
    base: KeptNight,
    out_table: str,
    tf_tables: dict[str, str],
) -> dict[str, int]:
    """The base night's pairs whose sides are unchanged, plus Splink's predict of what changed; counts."""
    from .features import splink_views

    w, s = WORK_SCHEMA, STATE_SCHEMA
    for side, table, kept in (("records", records, "records"), ("master", master, "master")):
        con.execute(
            f"""create or replace table {w}.{side}_same as
                select t.* from {table} as t
                semi join (select unique_id, input_hash from {s}.{kept} where {base.where()}) as k
                    on k.unique_id = t.unique_id and k.input_hash = t.input_hash"""
        )
        con.execute(
            f"create or replace table {w}.{side}_changed as select * from {table} anti join {w}.{side}_same using "
            "(unique_id)"
        )
    con.execute(
        f"""create or replace table {out_table} as
            select c.* exclude (as_of, run_id) from {s}.candidates as c
            semi join {w}.records_same as r on r.unique_id = c.record_uid
            semi join {w}.master_same as m on m.unique_id = c.personal_id
            where {base.where("c")}"""
    )
    counts = {
        "records_changed": con.execute(f"select count(*) from {w}.records_changed").fetchone()[0],
        "master_changed": con.execute(f"select count(*) from {w}.master_changed").fetchone()[0],
        "pairs_kept": con.execute(f"select count(*) from {out_table}").fetchone()[0],
        "pairs_scored": 0,
    }
    records_same = con.execute(f"select count(*) from {w}.records_same").fetchone()[0]
    # Each part is scored against only the rows of the other side that a blocking rule pairs with it (the rules
    # are symmetric in l and r; the term frequencies are the night's, registered): the same pairs and weights as
    # against the whole side, without Splink copying a million rows to score a few thousand.
    parts = []
    if counts["records_changed"]:  # changed records x the master rows they block with
        near = f"{w}.master_near_rc"
        con.execute(f"create or replace table {near} as {neighbours_sql(splink_model, master, f'{w}.records_changed')}")
        parts.append(("_rc", near, f"{w}.records_changed"))
    if counts["master_changed"] and records_same:  # unchanged records x the changed master rows they block with
        near = f"{w}.records_near_mc"
        blocked = neighbours_sql(splink_model, f"{w}.records_same", f"{w}.master_changed")
        con.execute(f"create or replace table {near} as {blocked}")
        parts.append(("_mc", f"{w}.master_changed", near))
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
    holdout: dict[str, Any] | None = None,
) -> None:
    """Keep tonight's state in one transaction (used by a later night only once this run commits the night).

    `holdout` (the ID hold-out's figures measured tonight) is kept with the parameters it was measured with.
    """
    import datetime as dt

    s = STATE_SCHEMA
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ensure_state(con)
    con.execute("begin transaction")
    try:
        con.execute(
            f"create table if not exists {s}.candidates as select cast(null as date) as as_of, "
            f"cast(null as varchar) as run_id, * from {candidates} limit 0"
        )
        measured = json.dumps(holdout) if holdout else None
        if params.new:
            con.execute(f"delete from {s}.term_frequencies where params_id = ?", [params.params_id])
            con.execute(f"delete from {s}.params where params_id = ?", [params.params_id])
            con.execute(
                f"insert into {s}.params values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    params.params_id,
                    params.model_hash,
                    params.master_rows,
                    params.prior,
                    params.commune_u,
                    as_of,
                    now,
                    measured,
                    as_of if measured else None,
                ],
            )
            for column, table in params.tf_tables.items():
                con.execute(
                    f"""insert into {s}.term_frequencies
                        select ?, ?, {column}, tf_{column} from {WORK_SCHEMA}.{table}""",
                    [params.params_id, column],
                )
        elif measured:
            con.execute(
                f"update {s}.params set holdout = ?, holdout_as_of = ? where params_id = ?",
                [measured, as_of, params.params_id],
            )
        for table in ("nights", "records", "master", "candidates"):
            con.execute(f"delete from {s}.{table} where as_of = ? and run_id = ?", [as_of, run_id])
        con.execute(
            f"insert into {s}.nights values (?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?, null)",
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
                now,
            ],
        )
        con.execute(f"insert into {s}.records select ?, ?, unique_id, input_hash from {records}", [as_of, run_id])
        con.execute(f"insert into {s}.master select ?, ?, unique_id, input_hash from {master}", [as_of, run_id])
        con.execute(
            f"insert into {s}.candidates by name select ? as as_of, ? as run_id, * from {candidates}",
            [as_of, run_id],
        )
        _purge(con, as_of, run_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def kept_holdout(con, params_id: str) -> tuple[dict[str, Any], Any] | None:
    """The ID hold-out's figures kept with these parameters, and the night they were measured on (or None)."""
    if not _has_table(con, STATE_SCHEMA, "params"):
        return None
    row = con.execute(
        f"select holdout, holdout_as_of from {STATE_SCHEMA}.params where params_id = ?", [params_id]
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return json.loads(row[0]), row[1]


def _purge(con, as_of, run_id: str) -> None:
    """Keep tonight's run and each night's latest committed run (rows only of tonight's and the KEEP_NIGHTS latest
    other committed ones); drop the rest and unused parameters.

    A run that has not committed (failed, killed, or not yet published) is of no use to a later night, except
    tonight's own; a night's committed run stays even while a rerun of that night is under way.
    """
    s = STATE_SCHEMA
    status_join, status_ok = "", "false"
    if _has_table(con, "meta", "night_status"):
        statuses = ", ".join(f"'{x}'" for x in USABLE_STATUSES)
        status_join = f"""left join meta.night_status as st
            on st.as_of = n.as_of and st.run_id = n.run_id and st.status in ({statuses})"""
        status_ok = "st.run_id is not null"
    committed = con.execute(
        f"""select n.as_of, n.run_id from {s}.nights as n {status_join}
            where (n.committed_at is not null or {status_ok}) and not (n.as_of = ? and n.run_id = ?)
            qualify row_number() over (partition by n.as_of order by coalesce(n.committed_at, n.written_at) desc) = 1
            order by n.as_of desc""",
        [as_of, run_id],
    ).fetchall()
    runs = [(as_of, run_id), *committed]
    with_rows = [(as_of, run_id), *committed[:KEEP_NIGHTS]]

    def listed(pairs) -> str:
        return ", ".join(f"(date '{d.isoformat()}', '{r.replace(chr(39), chr(39) * 2)}')" for d, r in pairs)

    con.execute(f"delete from {s}.nights where (as_of, run_id) not in ({listed(runs)})")
    con.execute(f"update {s}.nights set rows_kept = false where (as_of, run_id) not in ({listed(with_rows)})")
    for table in ("records", "master", "candidates"):
        con.execute(f"delete from {s}.{table} where (as_of, run_id) not in ({listed(with_rows)})")
    con.execute(f"delete from {s}.term_frequencies where params_id not in (select params_id from {s}.nights)")
    con.execute(f"delete from {s}.params where params_id not in (select params_id from {s}.nights)")
