"""Expected marts computed from the simulator's ground truth and the source files (tests only)."""

import sqlite3
from pathlib import Path

import pandas as pd

SECTORS = ("vaccination", "social", "civil", "children")
CRITERIA = ("dung", "du", "sach", "song")


def rule_criteria() -> dict[str, str]:
    rules = pd.read_csv(Path(__file__).resolve().parents[2] / "seeds" / "rules.csv", dtype=str)
    return dict(zip(rules["rule_code"], rules["criterion"], strict=True))


def expected_findings(truth: pd.DataFrame, column: str) -> pd.DataFrame:
    """(source, source_record_id, rule_code) rows the pipeline must produce, from a truth rule-code column."""
    exploded = truth[["source", "source_record_id", column]].explode(column).dropna(subset=[column])
    return exploded.rename(columns={column: "rule_code"}).drop_duplicates().reset_index(drop=True)


def per_rule_scores(expected: pd.DataFrame, actual: pd.DataFrame) -> pd.DataFrame:
    """Per rule: true positives, false positives, false negatives, precision, recall (counts only, no keys)."""
    keys = ["source", "source_record_id", "rule_code"]
    merged = expected[keys].assign(_e=1).merge(actual[keys].assign(_a=1), on=keys, how="outer")
    merged["tp"] = merged["_e"].notna() & merged["_a"].notna()
    merged["fp"] = merged["_e"].isna()
    merged["fn"] = merged["_a"].isna()
    scores = merged.groupby("rule_code")[["tp", "fp", "fn"]].sum().astype(int)
    scores["precision"] = scores["tp"] / (scores["tp"] + scores["fp"]).where(lambda s: s > 0)
    scores["recall"] = scores["tp"] / (scores["tp"] + scores["fn"]).where(lambda s: s > 0)
    return scores.fillna(1.0)


def _read(sources: Path, source: str, sql: str) -> pd.DataFrame:
    with sqlite3.connect(sources / f"{source}.sqlite") as con:
        return pd.read_sql(sql, con)


def expected_indicators(truth: pd.DataFrame, sources: Path, reconciled: pd.Series) -> pd.DataFrame:
    """Numerator and denominator of every indicator at province scope and per commune.

    `reconciled` is a boolean Series indexed like `truth`: linked (by the truth's link class) and no finding of
    criterion dung or sach and no FIELD_MISSING.
    """
    criteria = rule_criteria()
    units = truth[truth["record_kind"].isin(["record", "citizen"])].copy()
    units["reconciled"] = reconciled.reindex(units.index).fillna(False).astype(bool)
    rules_col = units["_rules"]
    for criterion in CRITERIA:
        units[f"ok_{criterion}"] = ~rules_col.map(lambda codes, c=criterion: any(criteria[r] == c for r in codes))
    units["ok_all"] = rules_col.map(len) == 0

    passports = set(_read(sources, "vaccination", "select ma_doi_tuong from ho_chieu_vac_xin")["ma_doi_tuong"])
    social = _read(sources, "social", "select BENEFICIARY_ID, PAY_METHOD, BANK_ACCOUNT, STATUS from BENEFICIARY")
    social["source_record_id"] = social["BENEFICIARY_ID"].astype(str)
    social["active"] = social["STATUS"] == "ACTIVE"
    social["paid_to_account"] = (
        social["active"] & (social["PAY_METHOD"] == "ACCOUNT") & (social["BANK_ACCOUNT"].fillna("").str.strip() != "")
    )
    civil = _read(sources, "civil", "select id, trang_thai_so_hoa from ho_tich")
    civil["source_record_id"] = civil["id"].astype(str)
    children = _read(sources, "children", "select ma_tre, ma_dinh_danh from tre_em")
    children["source_record_id"] = children["ma_tre"].astype(str)
    children["clean_id"] = children["ma_dinh_danh"].fillna("").str.replace(r"[ .]", "", regex=True)

    specs = []  # (indicator, source, numerator mask, denominator mask) over `units`
    by_source = {s: units["source"] == s for s in (*SECTORS, "population")}
    for source, mask in by_source.items():
        for criterion in CRITERIA:
            specs.append((f"{source}_{criterion}", mask & units[f"ok_{criterion}"], mask))
    specs.append(("population_clean", by_source["population"] & units["ok_all"], by_source["population"]))
    specs.append(("children_reviewed", by_source["children"] & units["reconciled"], by_source["children"]))
    specs.append(("vaccination_clean", by_source["vaccination"] & units["reconciled"], by_source["vaccination"]))
    specs.append(("social_reconciled", by_source["social"] & units["reconciled"], by_source["social"]))
    specs.append(
        (
            "vaccine_passports_signed",
            by_source["vaccination"] & units["source_record_id"].isin(passports),
            by_source["vaccination"],
        )
    )
    digitised = set(civil.loc[civil["trang_thai_so_hoa"] == "DA_SO_HOA", "source_record_id"])
    specs.append(
        ("civil_digitised", by_source["civil"] & units["source_record_id"].isin(digitised), by_source["civil"])
    )
    active = set(social.loc[social["active"], "source_record_id"])
    to_account = set(social.loc[social["paid_to_account"], "source_record_id"])
    specs.append(
        (
            "social_account_payment",
            by_source["social"] & units["source_record_id"].isin(to_account),
            by_source["social"] & units["source_record_id"].isin(active),
        )
    )
    own_id = children.set_index("source_record_id")["clean_id"]
    child_rec = by_source["children"] & units["reconciled"]
    same_id = units["source_record_id"].map(own_id).eq(units["_linked_id"]) & child_rec
    specs.append(("children_with_id_code", same_id, child_rec))

    frames = []
    for code, numerator, denominator in specs:
        scoped = pd.DataFrame({"scope_code": units["commune_code"], "numerator": numerator, "denominator": denominator})
        scoped = scoped[denominator]
        frames.append(
            pd.DataFrame(
                {
                    "scope_level": ["province"],
                    "scope_code": [None],
                    "indicator_code": [code],
                    "numerator": [int(scoped["numerator"].sum())],
                    "denominator": [int(scoped["denominator"].sum())],
                }
            )
        )
        communes = (
            scoped.dropna(subset=["scope_code"])
            .groupby("scope_code", as_index=False)[["numerator", "denominator"]]
            .sum()
        )
        frames.append(communes.assign(scope_level="commune", indicator_code=code))
    out = pd.concat(frames, ignore_index=True)
    return out.astype({"numerator": "int64", "denominator": "int64"})[
        ["scope_level", "scope_code", "indicator_code", "numerator", "denominator"]
    ]


def reconciled_mask(truth: pd.DataFrame, linked: pd.Series) -> pd.Series:
    """Linked and no finding of criterion dung or sach and no FIELD_MISSING (OUTPUTS.md)."""
    criteria = rule_criteria()
    blocking = truth["_rules"].map(
        lambda codes: any(criteria[r] in ("dung", "sach") or r == "FIELD_MISSING" for r in codes)
    )
    return linked & ~blocking
