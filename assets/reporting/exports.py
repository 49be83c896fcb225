"""What a steward downloads: the province's counts per commune and rule (CSV and XLSX per language), and what a
commune page needs to build its own exception list as XLSX or CSV (columns, link methods, verify-first rule)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets.reporting.data import CRITERION_LABELS, OUTSIDE, UNKNOWN
from assets.reporting.xlsx import EXCEL_MAX_ROWS, Sheet, split, write_csv, write_xlsx

__all__ = ["EXCEL_MAX_ROWS", "EXPORT_COLUMNS", "ExceptionExports", "verify_first"]

# The columns of a commune's exception list, which the page builds as XLSX or CSV in the reader's language from
# its rows (`static/report.js`): no file per commune on disk, so that a province's report stays small.
EXPORT_COLUMNS = {
    "vi": [
        "Mã xã/phường",
        "Nguồn dữ liệu",
        "Tham chiếu",
        "Mã bản ghi",
        "Họ tên",
        "Số định danh (liên kết)",
        "Cách liên kết",
        "Xác suất liên kết",
        "Mã lỗi",
        "Tiêu chí",
        "Việc cần làm",
        "Mới",
        "Số đêm tồn tại",
    ],
    "en": [
        "Commune code",
        "Source",
        "Reference",
        "Record key",
        "Name",
        "Linked personal ID",
        "Link method",
        "Link probability",
        "Rule",
        "Criterion",
        "What to do",
        "New",
        "Nights open",
    ],
}
EXPORT_SHEETS = {"vi": "Danh sách lỗi", "en": "Exceptions"}
SUMMARY_COLUMNS = {
    "vi": ["Xã/phường", "Mã xã/phường", "Mã lỗi", "Tiêu chí", "Số lỗi", "Số bản ghi", "Việc cần làm"],
    "en": ["Commune", "Commune code", "Rule", "Criterion", "Findings", "Records", "What to do"],
}
SUMMARY_WIDTHS = [24, 12, 22, 10, 10, 10, 80]
SUMMARY_SHEETS = {"vi": "Tổng hợp", "en": "Summary"}
RULE_SHEETS = {"vi": "Quy tắc", "en": "Rules"}
SUMMARY_RULE_COLUMNS = {
    "vi": ["Mã lỗi", "Tiêu chí", "Mô tả lỗi", "Việc cần làm"],
    "en": ["Rule", "Criterion", "Finding", "What to do"],
}
METHOD_LABELS = {
    "personal_id": ("Số định danh", "Personal ID"),
    "legacy_id": ("CMND 9 số", "9-digit CMND"),
    "probabilistic": ("Xác suất (Splink)", "Probabilistic (Splink)"),
    "none": ("Chưa liên kết", "Not linked"),
}
# findings about a person's death or payments after it: on a probabilistic link, verify the person first
VERIFY_FIRST_RULES = frozenset({"DEATH_NOT_RECORDED", "DECEASED_ACTIVE", "PAID_AFTER_DEATH"})


def verify_first(frame: pd.DataFrame) -> pd.Series:
    """True where a finding rests on a probabilistic link and is about a death: verify the person first."""
    return frame["rule_code"].isin(VERIFY_FIRST_RULES) & (frame["match_method"] == "probabilistic")


def _label(mapping: dict, lang: str):
    """Map codes to their label in `lang` (unknown codes stay as they are); a dict lookup per distinct value."""
    labels = {code: pair[0 if lang == "vi" else 1] for code, pair in mapping.items()}
    return lambda values: values.map(labels).fillna(values)


def summary_rule_table(rule_codes: pd.Series, rules: pd.DataFrame, lang: str) -> pd.DataFrame:
    """What each rule means and what to do about it (the summary XLSX's second sheet)."""
    known = rules.reindex(sorted(str(c) for c in pd.unique(rule_codes.to_numpy(dtype=object))))
    table = pd.DataFrame(
        {
            "rule_code": known.index,
            "criterion": _label(CRITERION_LABELS, lang)(known["criterion"]).fillna("").to_numpy(),
            "description": known[f"description_{lang}"].fillna("").to_numpy(),
            "action": known[f"action_{lang}"].fillna("").to_numpy(),
        }
    )
    table.columns = SUMMARY_RULE_COLUMNS[lang]
    return table


def summary_table(counts: pd.DataFrame, rules: pd.DataFrame, communes: dict[str, str], lang: str) -> pd.DataFrame:
    """Findings and records per commune and rule, whole province (small: the lists are per commune)."""
    buckets = {
        UNKNOWN: "Chưa xác định xã/phường" if lang == "vi" else "Commune unknown",
        OUTSIDE: "Ngoài tỉnh" if lang == "vi" else "Outside the province",
    }
    table = pd.DataFrame(
        {
            "commune": counts["commune"].map(buckets).fillna(counts["commune"].map(communes)).fillna(counts["commune"]),
            "commune_code": counts["commune"].where(~counts["commune"].isin(list(buckets)), ""),
            "rule_code": counts["rule_code"],
            "criterion": _label(CRITERION_LABELS, lang)(counts["rule_code"].map(rules["criterion"])),
            "findings": counts["findings"].astype("int64"),
            "records": counts["records"].astype("int64"),
            "action": counts["rule_code"].map(rules[f"action_{lang}"]).fillna(""),
        }
    )
    table.columns = SUMMARY_COLUMNS[lang]
    return table


class ExceptionExports:
    """The province's findings and records per commune and rule as files (`summary_vi/_en.csv/.xlsx`); the
    communes' lists are built by their pages."""

    def __init__(self, rules: pd.DataFrame, communes: dict[str, str]):
        self.rules = rules  # indexed by rule_code
        self.communes = communes

    def write_summary(self, directory: Path, counts: pd.DataFrame) -> dict:
        """Write `summary_vi/_en.csv/.xlsx` into `directory`; return their names."""
        directory.mkdir(parents=True, exist_ok=True)
        files: dict = {"rows": len(counts)}
        for lang in ("vi", "en"):
            csv_name, xlsx_name = f"summary_{lang}.csv", f"summary_{lang}.xlsx"
            table = summary_table(counts, self.rules, self.communes, lang)
            write_csv(table, directory / csv_name)
            glossary = summary_rule_table(counts["rule_code"].dropna(), self.rules, lang)
            write_xlsx(
                directory / xlsx_name,
                [
                    *split(table, SUMMARY_SHEETS[lang], SUMMARY_WIDTHS),
                    Sheet(RULE_SHEETS[lang], glossary, [22, 10, 80, 80]),
                ],
            )
            files[f"csv_{lang}"] = csv_name
            files[f"xlsx_{lang}"] = xlsx_name
        return files
