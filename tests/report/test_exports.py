"""The summary files (a list longer than an Excel sheet goes on over sheets, never cut) and the verify-first rule."""

import pandas as pd

from assets.reporting import exports, xlsx
from assets.reporting.exports import ExceptionExports

RULES = pd.DataFrame(
    {
        "criterion": ["dung", "sach"],
        "description_vi": ["Mô tả A & <b>", "Mô tả B"],
        "description_en": ["Description A & <b>", "Description B"],
        "action_vi": ["Sửa A", "Sửa B"],
        "action_en": ["Fix A", "Fix B"],
    },
    index=pd.Index(["RULE_A", "RULE_B"], name="rule_code"),
)


def test_long_summary_is_split_over_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 4)
    counts = pd.DataFrame(
        {"commune": ["00001"] * 10, "rule_code": ["RULE_A"] * 10, "findings": range(10), "records": range(10)}
    )
    files = ExceptionExports(RULES, {"00001": "Xã Một"}).write_summary(tmp_path, counts)
    book = pd.read_excel(tmp_path / files["xlsx_en"], sheet_name=None)
    assert list(book)[:3] == ["Summary", "Summary (2)", "Summary (3)"]
    rows = pd.concat([book[name] for name in list(book)[:3]])
    assert rows["Findings"].tolist() == list(range(10)), "every row, in order"
    assert len(list(book)[3:]) == 1 and len(book[list(book)[3]]) == 1, "the rules sheet"
    with open(tmp_path / files["csv_vi"], "rb") as handle:
        assert handle.read(3) == b"\xef\xbb\xbf", "UTF-8 BOM: Excel opens it"


def test_verify_first_only_for_death_rules_on_a_probabilistic_link():
    frame = pd.DataFrame(
        {
            "rule_code": ["DEATH_NOT_RECORDED", "DEATH_NOT_RECORDED", "PAID_AFTER_DEATH", "NAME_MISMATCH"],
            "match_method": ["probabilistic", "personal_id", "probabilistic", "probabilistic"],
        }
    )
    assert exports.verify_first(frame).tolist() == [True, False, True, False]


def test_summary_has_numbers_and_buckets(tmp_path):
    writer = ExceptionExports(RULES, {"00001": "Xã Một"})
    counts = pd.DataFrame(
        {
            "commune": ["00001", "unknown", "outside"],
            "rule_code": ["RULE_A", "RULE_B", "RULE_A"],
            "findings": [7, 3, 1],
            "records": [5, 2, 1],
        }
    )
    summary = writer.write_summary(tmp_path, counts)
    sheet = pd.read_excel(tmp_path / summary["xlsx_en"])
    assert sheet["Findings"].tolist() == [7, 3, 1]
    assert sheet["Commune"].tolist() == ["Xã Một", "Commune unknown", "Outside the province"]
