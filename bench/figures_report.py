"""The calibrated scenario's figures from its ground truth, against DOMAIN.md's figures, as a Markdown page.

    uv run --frozen python bench/figures_report.py --truth-json DIR/ground_truth.json --out bench/results/x.md

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth-json", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    meta = json.loads(args.truth_json.read_text(encoding="utf-8"))
    meta["figures_target"] = meta.get("figures_target") or {}
    text = page(meta)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
