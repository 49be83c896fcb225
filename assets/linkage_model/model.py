"""The Splink model: comparisons, blocking, EM training, and the saved model file (with its thresholds)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).with_name("model.json")

MASTER = "master"
RECORDS = "records"


@dataclass(frozen=True)
class Thresholds:
    """Above `accept` a pair is linked; from `review` up to `accept` it goes to the review queue."""

    accept: float = 0.95
    review: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 < self.review <= self.accept < 1.0:
            raise ValueError("thresholds need 0 < review <= accept < 1")


def _name_part(part: str, label: str):
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=f"{part}_name",
        comparison_description=label,
        comparison_levels=[
            cll.NullLevel(f"{part}_unaccented"),
            cll.ExactMatchLevel(f"{part}_name", term_frequency_adjustments=True).configure(
                label_for_charts="exact (accented)"
            ),
            # no term-frequency adjustment here: Splink would scale it by this level's own (small) u, which
            # punishes common names spelt without accents far below their real evidence
            cll.ExactMatchLevel(f"{part}_unaccented").configure(label_for_charts="exact without accents"),
            cll.JaroWinklerLevel(f"{part}_unaccented", 0.9).configure(label_for_charts="similar (Jaro-Winkler >= 0.9)"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )


def _relative(relative: str, description: str, id_column: str, name_column: str):
    """A person around the record (mother, spouse): the same ID, else the same or a similar name."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=relative,
        comparison_description=description,
        comparison_levels=[
            cll.CustomLevel(
                f"({id_column}_l is null and {name_column}_l is null)"
                f" or ({id_column}_r is null and {name_column}_r is null)",
                f"{relative} unknown on a side",
            ).configure(is_null_level=True),
            cll.CustomLevel(f"{id_column}_l = {id_column}_r", f"same {relative} ID"),
            cll.CustomLevel(f"{name_column}_l = {name_column}_r", f"same {relative} name"),
            cll.CustomLevel(
                f"jaro_winkler_similarity({name_column}_l, {name_column}_r) >= 0.9", f"similar {relative} name"
            ),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )


def comparisons() -> list:
    """Names (family, middle, given), birth date at its precision, sex, commune, and the people around the
    record: mother, father, spouse; the date of death."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    # Custom SQL must be symmetric: in a link_only job either input may be on the left.
    day = "birth_date_precision_l = 'day' and birth_date_precision_r = 'day'"
    birth_date = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="birth date, compared at the coarser precision of the two",
        comparison_levels=[
            cll.CustomLevel("birth_year_l is null or birth_year_r is null", "birth date unknown on a side").configure(
                is_null_level=True
            ),
            cll.CustomLevel(f"{day} and birth_date_l = birth_date_r", "same day"),
            cll.CustomLevel(
                "(birth_date_precision_l = 'month' or birth_date_precision_r = 'month')"
                " and birth_date_precision_l <> 'year' and birth_date_precision_r <> 'year'"
                " and date_trunc('month', birth_date_l) = date_trunc('month', birth_date_r)",
                "same month (month precision)",
            ),
            cll.CustomLevel(
                "(birth_date_precision_l = 'year' or birth_date_precision_r = 'year') and birth_year_l = birth_year_r",
                "same year (year precision)",
            ),
            cll.CustomLevel(
                f"{day} and (damerau_levenshtein(strftime(birth_date_l, '%Y%m%d'),"
                " strftime(birth_date_r, '%Y%m%d')) <= 1"
                " or (birth_year_l = birth_year_r and day(birth_date_l) = month(birth_date_r)"
                " and month(birth_date_l) = day(birth_date_r)))",
                "one digit off, or day and month swapped",
            ),
            cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", "within a year"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    mother = _relative("mother", "the mother: her personal ID, else her name", "mother_id", "mother_name_unaccented")
    father = cl.CustomComparison(
        output_column_name="father",
        comparison_description="the father's name (civil birth entries)",
        comparison_levels=[
            cll.NullLevel("father_name_norm"),
            cll.ExactMatchLevel("father_name_norm").configure(label_for_charts="same father name"),
            cll.JaroWinklerLevel("father_name_norm", 0.9).configure(label_for_charts="similar father name"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    spouse = _relative(
        "spouse",
        "the spouse (civil marriage entries; master: the other of HEAD and SPOUSE)",
        "spouse_id",
        "spouse_name_norm",
    )
    death = cl.CustomComparison(
        output_column_name="death",
        comparison_description="the date of death (civil death entries; the master's when it has one)",
        comparison_levels=[
            cll.NullLevel("death_date"),
            cll.ExactMatchLevel("death_date").configure(label_for_charts="same date of death"),
            cll.CustomLevel("abs(date_diff('day', death_date_l, death_date_r)) <= 31", "within a month"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    sex = cl.CustomComparison(
        output_column_name="sex",
        comparison_description="sex",
        comparison_levels=[
            cll.NullLevel("sex"),
            cll.ExactMatchLevel("sex").configure(label_for_charts="same"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    commune = cl.CustomComparison(
        output_column_name="commune",
        comparison_description="current commune (old codes mapped through the crosswalk)",
        comparison_levels=[
            cll.NullLevel("commune_code"),
            cll.ExactMatchLevel("commune_code").configure(label_for_charts="same"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    return [
        _name_part("family", "family name"),
        _name_part("middle", "middle name"),
        _name_part("given", "given name"),
        birth_date,
        sex,
        commune,
        mother,
        father,
        spouse,
        death,
    ]


# Blocking rule 4 (Splink takes the equi-join on name and commune, the rest as a filter on the joined pairs).
NAME_COMMUNE_PLAUSIBLE_BIRTH = (
    '(l."name_unaccented" = r."name_unaccented") AND (l."commune_code" = r."commune_code")'
    ' AND (l."birth_year" IS NULL OR r."birth_year" IS NULL OR ABS(l."birth_year" - r."birth_year") <= 1'
    " OR DAMERAU_LEVENSHTEIN(STRFTIME(l.\"birth_date\", '%Y%m%d'), STRFTIME(r.\"birth_date\", '%Y%m%d')) <= 1)"
)


def blocking_rules() -> list:
    """OR-ed equi-join rules: each needs two or three agreeing fields (no province-wide cross join).

    Between them a pair is found when the name is right with the birth year or the commune, or the date is
    right and either the place or one name part is right (a typo, a move), or the mother's or the spouse's ID
    agrees. Each key holds at most the people of one name in one birth year or one commune (≈ 100 at 1.5 M
    people), so comparisons per record stay bounded as the province grows.
    """
    from splink import block_on

    return [
        block_on("name_unaccented", "birth_year"),
        block_on("birth_date", "commune_code"),
        block_on("birth_date", "given_unaccented"),
        block_on("birth_date", "family_unaccented", "middle_unaccented"),
        # name + commune, only where the birth date is not "different" (unknown on a side, within a year, or one
        # digit off): at province 97 % of the pairs it added past rules 0-3 had a "different" birth date, and
        # scoring them was a third of the linkage (bench/results/speed_linkage.md)
        NAME_COMMUNE_PLAUSIBLE_BIRTH,
        block_on("mother_id", "birth_year"),
        block_on("spouse_id"),
    ]


# EM sessions: together they train every comparison at least once (a session leaves out the comparisons
# whose columns its blocking rule uses).
def training_blocking_rules() -> list:
    from splink import block_on

    return [
        block_on("birth_date", "given_unaccented"),  # family, middle, sex, commune, mother
        block_on("family_unaccented", "given_unaccented", "commune_code"),  # birth date, middle, sex, mother
        block_on("birth_date", "commune_code"),  # family, middle, given, sex, mother
    ]


def settings_creator():
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
    )


def load_model(path: Path | str | None = None) -> tuple[dict[str, Any], Thresholds, dict[str, Any]]:
    """(Splink settings dict, thresholds, training metadata) from the saved model file."""
    data = json.loads(Path(path or MODEL_PATH).read_text(encoding="utf-8"))
    meta = data["doisoat"]
    return data["splink_model"], Thresholds(**meta["thresholds"]), meta


def save_model(splink_model: dict[str, Any], thresholds: Thresholds, meta: dict[str, Any], path: Path | str) -> None:
    """Write the model file: Splink's own model JSON under `splink_model`, ours under `doisoat`."""
    body = {
        "doisoat": {**meta, "thresholds": asdict(thresholds)},
        "splink_model": splink_model,
    }
    Path(path).write_text(json.dumps(body, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def make_linker(db_api, master_table: str, records_table: str, settings):
    """A link_only Linker over the two registered inputs (master first)."""
    from splink import Linker

    master = db_api.register(master_table, dataset_display_name=MASTER)
    records = db_api.register(records_table, dataset_display_name=RECORDS)
    return Linker([master, records], settings, log_level=None)


def train_on(
    db_api,
    master_table: str,
    records_table: str,
    labelled: tuple[str, str] | None = None,
    *,
    labelled_db_api=None,
    seed: int = 42,
    u_max_pairs: float = 2e7,
) -> dict:
    """Estimate the model: λ from deterministic rules and u by random sampling (master × the residue); m from
    the records an ID links (`labelled`: master and those records with a `person_label` column: the pairs the
    ID names are true matches), else by EM on the residue.

    EM at a province's name density takes namesakes in one commune for matches (it learned that 70 % of
    matches have a different birth date); the ID-linked records carry the same fields with their real errors.
    """
    from splink import block_on

    linker = make_linker(db_api, master_table, records_table, settings_creator())
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("name_unaccented", "birth_date", "sex"),
            block_on("name_unaccented", "birth_date", "commune_code"),
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    if labelled is None:
        for rule in training_blocking_rules():
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        return floor_m_probabilities(linker.misc.save_model_to_json(out_path=None))
    model = linker.misc.save_model_to_json(out_path=None)
    by_labels = make_linker(labelled_db_api or db_api, *labelled, settings_creator())
    by_labels.training.estimate_m_from_label_column("person_label")
    m_model = by_labels.misc.save_model_to_json(out_path=None)
    m_levels = {
        c["output_column_name"]: [lv.get("m_probability") for lv in c["comparison_levels"]]
        for c in m_model["comparisons"]
    }
    for comparison in model["comparisons"]:
        for level, m in zip(comparison["comparison_levels"], m_levels[comparison["output_column_name"]], strict=True):
            if not level.get("is_null_level"):
                level["m_probability"] = m
    return floor_m_probabilities(model)


M_FLOOR = 0.002
# A birth date wrong by more than a year, and not by one digit or a day/month swap, is much rarer in a true
# match than a typo: at a province's name density a namesake in the same commune is likelier.
LEVEL_FLOORS = {("birth_date", "different"): 0.0002}


def floor_m_probabilities(splink_model: dict[str, Any], floor: float = M_FLOOR) -> dict[str, Any]:
    """Give every level at least `floor` of the matches (`LEVEL_FLOORS` where named; then renormalise).

    EM on a residue without typos or wrong sexes learns m = 0 for those levels, i.e. an infinite veto; in real
    data one typo or one wrong field must cost evidence, not rule a person out.
    """
    for comparison in splink_model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        name = comparison.get("output_column_name")
        ms = [
            max(float(lv.get("m_probability") or 0.0), LEVEL_FLOORS.get((name, lv.get("label_for_charts")), floor))
            for lv in levels
        ]
        total = sum(ms)
        for level, m in zip(levels, ms, strict=True):
            level["m_probability"] = m / total
    return splink_model


def train_model(
    warehouse_path: Path | str,
    *,
    out_path: Path | str | None = None,
    thresholds: Thresholds | None = None,
    staging: str = "staging",
    seed: int = 42,
    label_records: int = 100_000,
) -> Path:
    """Retrain on a warehouse whose staging layer is built (the residue against the master); save the model.

    Keeps the thresholds of the current model file unless new ones are given. This is `doisoat train-linkage`.
    """
    import duckdb
    from splink import DuckDBAPI

    from .features import FEATURE_COLUMNS, build_inputs, holdout_sql, splink_views

    out = Path(out_path or MODEL_PATH)
    if thresholds is None:
        thresholds = load_model(out)[1] if out.exists() else Thresholds()
    con = duckdb.connect(str(warehouse_path))
    schema = "linkage_work"
    try:
        master, records = build_inputs(con, schema, staging)
        views = splink_views(con, schema, master, records)
        n_master = con.execute(f"select count(*) from {master}").fetchone()[0]
        n_records = con.execute(f"select count(*) from {records}").fetchone()[0]
        con.execute(f"create or replace table {schema}.lk_labelled as {holdout_sql(label_records, staging)}")
        n_labelled = con.execute(f"select count(*) from {schema}.lk_labelled").fetchone()[0]
        cols = ", ".join(FEATURE_COLUMNS)
        con.execute(
            f"create or replace view {schema}.splink_master_labelled as "
            f"select {cols}, unique_id as person_label from {master}"
        )
        con.execute(
            f"create or replace view {schema}.splink_records_labelled as "
            f"select {cols}, true_personal_id as person_label from {schema}.lk_labelled"
        )
        labelled = ("splink_master_labelled", "splink_records_labelled") if n_labelled else None
        # its own cursor (DuckDB 2 allows one open result per cursor), its work tables in `schema`
        db_api = DuckDBAPI(con.cursor(), output_schema=schema)
        labelled_db_api = DuckDBAPI(con.cursor(), output_schema=schema)  # Splink registers a name once per API
        splink_model = train_on(db_api, *views, labelled, labelled_db_api=labelled_db_api, seed=seed)
    finally:
        con.execute(f"drop schema if exists {schema} cascade")
        con.close()
    meta = {
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "trained_on": {
            "master_rows": int(n_master),
            "residue_rows": int(n_records),
            "id_linked_records_for_m": int(n_labelled),
        },
        "seed": seed,
        "splink_version": _splink_version(),
    }
    save_model(splink_model, thresholds, meta, out)
    return out


def _splink_version() -> str:
    import splink

    return splink.__version__
