"""The calibrated scenario's figures from its ground truth, against DOMAIN.md's figures, as a Markdown page.

    uv run --frozen python bench/figures_report.py --truth-json DIR/ground_truth.json --out bench/results/x.md
    uv run --frozen python bench/figures_report.py --truth-json DIR/ground_truth/D.json \
        --warehouse W.duckdb --as-of D --out bench/results/x.md     # and the night's fct_indicators against both

`ground_truth.json` carries `figures` (computed by `simulator.truth.headline_figures` from the ground truth,
perfect linkage, and the written tables) and `figures_target` (the scenario's `Figures`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from simulator.config import PROVINCE_RESIDENTS, share

ROWS = (  # label, figure key, target: count key or (denominator-relative rate key), which part
    ("residents", "residents", "count", None),
    ("child records", "children_reviewed", "denominator", "children_records"),
    ("child records reconciled (reviewed)", "children_reviewed", "numerator", "children_reconciled"),
    ("children_reviewed %", "children_reviewed", "rate", None),
    ("of those, with the ID code", "children_with_id_code", "numerator", "children_with_id_code"),
    ("signed vaccine passports", "vaccine_passports_signed", "numerator", "passports_signed"),
    ("vaccination subjects", "vaccine_passports_signed", "denominator", None),
    ("vaccination_clean %", "vaccination_clean", "rate", "vaccination_clean_pct"),
    ("civil entries", "civil_digitised", "denominator", "civil_entries"),
    ("civil_digitised %", "civil_digitised", "rate", "civil_digitised_pct"),
    ("social-protection beneficiaries", "social_reconciled", "denominator", "social_beneficiaries"),
    ("ACTIVE beneficiaries", "social_account_payment", "denominator", None),
    ("social_account_payment %", "social_account_payment", "rate", "social_account_payment_pct"),
)


def page(meta: dict) -> str:
    """The comparison table."""
    figures, target = meta["figures"], meta.get("figures_target") or {}
    lines = [
        f"# `{meta['scenario']}`: DOMAIN.md's figures from the ground truth",
        "",
        f"Seed {meta['seed']}, as of {meta['as_of']}, province {meta['province']}. Computed from "
        "`ground_truth.parquet` (rule codes under perfect linkage; reconciled = no `dung`/`sach` finding, no "
        "FIELD_MISSING, linked) and the written source tables, by `simulator.truth.headline_figures`; the "
        "scaled-down test (`tests/simulator/test_calibration.py`) checks the same computation against the "
        "reconciliation tests' independent one.",
        "",
        "| figure | DOMAIN.md | ground truth | exact |",
        "|---|---:|---:|---|",
    ]
    for label, key, part, target_key in ROWS:
        got = figures[key][part]
        if part == "rate":
            want = target.get(target_key) if target_key else None
            shown = f"{got:.4f} %"
            exact = ""
            if want is not None:
                numerator = figures[key]["numerator"]
                exact = "yes" if numerator == share(figures[key]["denominator"], want) else "NO"
                want_text = f"{want} %"
            else:
                want_text = "74.92 %" if key == "children_reviewed" else ""
            lines.append(f"| {label} | {want_text} | {shown} | {exact} |")
            continue
        want = target.get("residents", PROVINCE_RESIDENTS) if key == "residents" else target.get(target_key)
        exact = "" if want is None else ("yes" if got == want else "NO")
        lines.append(f"| {label} | {'' if want is None else f'{want:,}'} | {got:,} | {exact} |")
    lines += [
        "",
        "A rate is exact when its numerator is `round(rate × denominator)` of the denominator the simulation "
        "produced. Row counts: " + ", ".join(f"{k} {v:,}" for k, v in meta["row_counts"].items()) + ".",
    ]
    return "\n".join(lines) + "\n"


# fct_indicators codes for the figures above, and the source whose links decide them
PIPELINE = (  # label, figure key, indicator_code (None: the population denominator), source
    ("residents", "residents", None, "population"),
    ("children_reviewed", "children_reviewed", "children_reviewed", "children"),
    ("children_with_id_code", "children_with_id_code", "children_with_id_code", "children"),
    ("vaccine_passports_signed", "vaccine_passports_signed", "vaccine_passports_signed", "vaccination"),
    ("vaccination_clean", "vaccination_clean", "vaccination_clean", "vaccination"),
    ("civil_digitised", "civil_digitised", "civil_digitised", "civil"),
    ("social_account_payment", "social_account_payment", "social_account_payment", "social"),
    ("social_reconciled", "social_reconciled", "social_reconciled", "social"),
)


def pipeline_page(meta: dict, warehouse: Path, as_of: str, truth_parquet: Path) -> str:
    """The night's province-scope fct_indicators against the ground truth's figures, and the linkage errors."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "select indicator_code, numerator, denominator, rate from marts.fct_indicators "
        "where as_of = ? and scope_level = 'province'",
        [as_of],
    ).fetchall()
    got = {code: (num, den, rate) for code, num, den, rate in rows}
    figures = meta["figures"]
    lines = [
        f"## The pipeline's `fct_indicators` (night {as_of}, province scope) against the ground truth",
        "",
        "| indicator | truth numerator / denominator | truth rate | pipeline numerator / denominator | "
        "pipeline rate | Δ pp | exact |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, key, code, _source in PIPELINE:
        truth = figures[key]
        if code is None:
            den = got.get("population_clean", (None, None, None))[1]
            exact = "yes" if den == truth["count"] else "NO"
            lines.append(f"| {label} (citizens) | {truth['count']:,} | | {den:,} | | | {exact} |")
            continue
        num, den, rate = got.get(code, (None, None, None))
        if num is None:
            lines.append(f"| {label} | | | (no row) | | | NO |")
            continue
        exact = "yes" if (num, den) == (truth["numerator"], truth["denominator"]) else "no"
        lines.append(
            f"| {label} | {truth['numerator']:,} / {truth['denominator']:,} | {truth['rate']:.4f} % | "
            f"{num:,} / {den:,} | {rate:.4f} % | {rate - truth['rate']:+.4f} | {exact} |"
        )
    errors = con.execute(
        f"""
        with truth as (
            select source, source_record_id, true_personal_id from read_parquet('{truth_parquet}')
            where source <> 'population'
        ), ours as (
            select source, source_record_id, personal_id, match_method from marts.fct_reconciliation where as_of = $1
        ), queue as (
            select distinct source, source_record_id from marts.fct_review_queue where as_of = $1
        )
        select t.source,
               count(*) as records,
               count(*) filter (where o.personal_id is not null and o.personal_id = t.true_personal_id) as right_links,
               count(*) filter (where o.personal_id is not null and o.personal_id is distinct from t.true_personal_id)
                   as wrong_links,
               count(*) filter (where o.personal_id is null and t.true_personal_id is not null) as missed_links,
               count(*) filter (where o.personal_id is distinct from t.true_personal_id
                                and o.match_method = 'probabilistic') as probabilistic_errors,
               count(*) filter (where o.personal_id is null and t.true_personal_id is not null
                                and q.source_record_id is not null) as missed_in_queue,
               count(*) filter (where o.source_record_id is null) as missing_rows
        from truth t left join ours o using (source, source_record_id)
        left join queue q using (source, source_record_id)
        group by t.source order by t.source
        """,
        [as_of],
    ).fetchall()
    lines += [
        "",
        "Linkage against the ground truth, per sector (`fct_reconciliation.personal_id` vs the true person): a",
        "wrong link links the record to another person (or to someone when it belongs to nobody in the master);",
        "a missed link leaves a record unlinked that belongs to a master person; of those, some wait in the",
        "night's review queue (`fct_review_queue`: the model was unsure and a steward decides).",
        "",
        "| source | records | right links | wrong links | missed links | of the errors, probabilistic "
        "| missed, in the review queue | rows missing |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for source, records, right, wrong, missed, prob, queued, missing in errors:
        lines.append(
            f"| {source} | {records:,} | {right:,} | {wrong:,} | {missed:,} | {prob:,} | {queued:,} | {missing:,} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth-json", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, default=None, help="also compare this warehouse's fct_indicators")
    parser.add_argument("--as-of", default=None, help="with --warehouse: the night (default: the truth's as_of)")
    args = parser.parse_args()
    meta = json.loads(args.truth_json.read_text(encoding="utf-8"))
    meta["figures_target"] = meta.get("figures_target") or {}
    text = page(meta)
    if args.warehouse:
        truth_parquet = args.truth_json.with_suffix(".parquet")
        text += "\n" + pipeline_page(meta, args.warehouse, args.as_of or meta["as_of"], truth_parquet)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
