"""The exception lists as files a steward downloads: CSV (UTF-8 with BOM, opens in Excel) and XLSX."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from assets.reporting.data import CRITERION_LABELS, SOURCE_LABELS

EXCEL_MAX_ROWS = 1_048_575  # a sheet's rows below its header

COLUMNS = {
    "vi": [
        "Xã/phường",
        "Mã xã/phường",
        "Nguồn dữ liệu",
        "Mã bản ghi",
        "Họ tên",
        "Số định danh (liên kết)",
        "Mã lỗi",
        "Tiêu chí",
        "Mô tả lỗi",
        "Việc cần làm",
    ],
    "en": [
        "Commune",
        "Commune code",
        "Source",
        "Record key",
        "Name",
        "Linked personal ID",
        "Rule",
        "Criterion",
        "Finding",
        "What to do",
    ],
}
WIDTHS = [24, 10, 18, 16, 22, 20, 22, 10, 60, 60]


def exception_table(frame: pd.DataFrame, rules: pd.DataFrame, communes: dict[str, str], lang: str) -> pd.DataFrame:
    """The downloadable exception list in one language (names and IDs as the query gave them)."""
    index = 0 if lang == "vi" else 1
    rule_text = rules[[f"description_{lang}", f"action_{lang}"]]
    merged = frame.merge(rule_text, left_on="rule_code", right_index=True, how="left")
    table = pd.DataFrame(
        {
            "commune": merged["commune_code"].map(communes).fillna("—" if lang == "vi" else "—"),
            "commune_code": merged["commune_code"].fillna(""),
            "source": merged["source"].map(lambda s: SOURCE_LABELS.get(s, (s, s))[index]),
            "record_key": merged["record_key"].fillna(""),
            "name": merged["name"].fillna(""),
            "linked_id": merged["linked_id"].fillna(""),
            "rule_code": merged["rule_code"],
            "criterion": merged["criterion"].map(lambda c: CRITERION_LABELS.get(c, (c, c))[index]),
            "description": merged[f"description_{lang}"].fillna(""),
            "action": merged[f"action_{lang}"].fillna(""),
        }
    )
    table.columns = COLUMNS[lang]
    return table


_ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="styles.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment wrapText="1" vertical="top"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _escape(series: pd.Series) -> pd.Series:
    return (
        series.astype(str)
        .str.replace(_ILLEGAL_XML, "", regex=True)
        .str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
    )


def _letters(number: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(number)


def sheet_rows(table: pd.DataFrame) -> pd.Series:
    """The SpreadsheetML `<row>` of every row of `table`, text cells, built column-wise (vectorised).

    Rows and cells carry no `r` reference (optional in SpreadsheetML): a row's XML does not depend on where it
    lands, so the province's rows are built once and each commune's file joins its slice.
    """
    body = pd.Series("<row>", index=table.index, dtype=object)
    for column in table.columns:
        body = (
            body + '<c t="inlineStr"><is><t xml:space="preserve">' + _escape(table[column].fillna("")) + "</t></is></c>"
        )
    return body + "</row>"


def write_xlsx(columns: list[str], rows_xml: pd.Series, path: Path, sheet: str) -> None:
    """Write a one-sheet XLSX: bold frozen header, auto-filter, column widths, the given rows (text cells).

    A standard SpreadsheetML package (Excel, LibreOffice, openpyxl and pandas read it), assembled directly:
    openpyxl writes a cell at a time and takes minutes on a province's exception list.
    """
    import zipfile

    rows_xml = rows_xml.head(EXCEL_MAX_ROWS)
    letters = [_letters(n) for n in range(1, len(columns) + 1)]
    header = (
        "<row>"
        + "".join(f'<c t="inlineStr" s="1"><is><t>{html.escape(name, quote=False)}</t></is></c>' for name in columns)
        + "</row>"
    )
    last = f"{letters[-1]}{len(rows_xml) + 1}"
    cols = "".join(f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate(WIDTHS, start=1))
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews>'
        f"<cols>{cols}</cols><sheetData>{header}{''.join(rows_xml.tolist())}</sheetData>"
        f'<autoFilter ref="A1:{last}"/></worksheet>'
    )
    workbook_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{html.escape(sheet)}" sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"'{html.escape(sheet)}'!$A$1:${letters[-1]}${len(rows_xml) + 1}</definedName></definedNames>"
        "</workbook>"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook_xml)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)


class ExceptionExports:
    """The night's exception list in both languages, prepared once and written per commune (and whole)."""

    SHEETS = {"vi": "Danh sách lỗi", "en": "Exceptions"}

    def __init__(self, frame: pd.DataFrame, rules: pd.DataFrame, communes: dict[str, str]):
        self.key = frame["commune"].reset_index(drop=True)
        self.tables = {
            lang: exception_table(frame, rules, communes, lang).reset_index(drop=True) for lang in ("vi", "en")
        }
        self.rows = {lang: sheet_rows(table) for lang, table in self.tables.items()}

    def write(self, directory: Path, stem: str, commune: str | None = None) -> dict[str, str]:
        """Write `<stem>_vi/_en.csv/.xlsx` (one commune or all) into `directory`; return their names."""
        directory.mkdir(parents=True, exist_ok=True)
        selected = self.key == commune if commune is not None else pd.Series(True, index=self.key.index)
        files = {}
        for lang in ("vi", "en"):
            csv_name, xlsx_name = f"{stem}_{lang}.csv", f"{stem}_{lang}.xlsx"
            table = self.tables[lang][selected]
            table.to_csv(directory / csv_name, index=False, encoding="utf-8-sig")
            write_xlsx(list(table.columns), self.rows[lang][selected], directory / xlsx_name, self.SHEETS[lang])
            files[f"csv_{lang}"] = csv_name
            files[f"xlsx_{lang}"] = xlsx_name
        return files
