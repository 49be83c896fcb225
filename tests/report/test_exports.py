"""The exception files: a list longer than an Excel sheet is split over sheets, never truncated."""

import pandas as pd

from assets.reporting import exports
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


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": ["vaccination"] * n,
            "record_key": [f"K{i:05d}" for i in range(n)],
            "rule_code": ["RULE_A" if i % 3 else "RULE_B" for i in range(n)],
            "criterion": ["dung" if i % 3 else "sach" for i in range(n)],
            "commune_code": ["00001"] * n,
            "name": ["N. V. A"] * n,
            "linked_id": [None] * n,
        }
    )


def test_long_list_is_split_over_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 4)
    files = ExceptionExports(RULES, {"00001": "Xã Một"}).write(tmp_path, "00001", _frame(10))
    assert files["sheets"] == 3 and files["csv_over_excel"]
    for lang, first in (("vi", "Danh sách lỗi"), ("en", "Exceptions")):
        book = pd.read_excel(tmp_path / files[f"xlsx_{lang}"], sheet_name=None, dtype=str)
        assert list(book)[:3] == [first, f"{first} (2)", f"{first} (3)"]
        rows = pd.concat([book[name] for name in list(book)[:3]])
        assert [len(book[name]) for name in list(book)[:3]] == [4, 4, 2]
        assert rows.iloc[:, 2].tolist() == [f"K{i:05d}" for i in range(10)], "every row, in order"
        assert len(list(book)[3:]) == 1 and len(book[list(book)[3]]) == 2, "the rules sheet"
        csv = pd.read_csv(tmp_path / files[f"csv_{lang}"], encoding="utf-8-sig", dtype=str)
        assert len(csv) == 10
        with open(tmp_path / files[f"csv_{lang}"], "rb") as handle:
            assert handle.read(3) == b"\xef\xbb\xbf", "UTF-8 BOM: Excel opens it"


def test_short_list_is_one_sheet_and_summary_has_numbers(tmp_path):
    writer = ExceptionExports(RULES, {"00001": "Xã Một"})
    files = writer.write(tmp_path, "00001", _frame(5))
    assert files["sheets"] == 1 and not files["csv_over_excel"]
    assert len(pd.read_excel(tmp_path / files["xlsx_vi"], dtype=str)) == 5
    counts = pd.DataFrame(
        {"commune": ["00001", "unknown"], "rule_code": ["RULE_A", "RULE_B"], "findings": [7, 3], "records": [5, 2]}
    )
    summary = writer.write_summary(tmp_path, counts)
    sheet = pd.read_excel(tmp_path / summary["xlsx_en"])
    assert sheet["Findings"].tolist() == [7, 3] and sheet["Commune"].tolist() == ["Xã Một", "Commune unknown"]
