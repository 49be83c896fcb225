"""A streaming SpreadsheetML (XLSX) writer for long text tables, and the CSV writer beside it.

Kept hand-written because it measured faster than XlsxWriter's `constant_memory` mode at a million rows
(`bench/report_xlsx.py`, figures in `bench/results/report_xlsx.md`): it escapes each column's distinct values
once and joins rows in bulk, where XlsxWriter writes a cell at a time.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

EXCEL_MAX_ROWS = 1_048_575  # a sheet's rows below its header; longer lists go on to further sheets
CHUNK_ROWS = 50_000  # rows of sheet XML built and written at a time

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


_ILLEGAL_XML_RE = re.compile(_ILLEGAL_XML)


def _xml_text(value: str) -> str:
    return _ILLEGAL_XML_RE.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _encoded(values: pd.Series, encode) -> np.ndarray:
    """`encode` applied to each distinct value only (most columns repeat a few values: rule, action, source),
    then spread back over the rows."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object, na_value=""), sort=False)
    encoded = np.array([encode(str(u)) for u in uniques.tolist()] + [encode("")], dtype=object)
    return encoded[codes]  # code -1 (missing) takes the last, empty value


def _letters(number: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(number)


def sheet_rows(table: pd.DataFrame) -> list[str]:
    """The SpreadsheetML `<row>` of every row of `table` (text cells; integer columns as number cells).

    Each column's distinct values are escaped once, the rows joined in one pass. Rows and cells carry no `r`
    reference (optional in SpreadsheetML): a row's XML does not depend on where it lands, so rows are built in
    chunks and streamed into the sheet.
    """
    cells = []
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_integer_dtype(values):
            cells.append("<c><v>" + values.astype(str).to_numpy(dtype=object) + "</v></c>")
        else:
            cells.append(
                _encoded(values, lambda v: f'<c t="inlineStr"><is><t xml:space="preserve">{_xml_text(v)}</t></is></c>')
            )
    return ["<row>" + "".join(row) + "</row>" for row in zip(*cells, strict=True)]


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """The table as CSV in UTF-8 with a BOM (Excel opens it with the accents right), quoting as Excel does.

    pandas' writer: byte-identical to the hand-written one it replaced and as fast (`bench/report_xlsx.py`)."""
    table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


@dataclass(frozen=True)
class Sheet:
    name: str  # at most 31 characters, no []:*?/\\
    table: pd.DataFrame
    widths: list[int]


def _content_types(n: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    return _CONTENT_TYPES.replace(
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
        sheets,
    )


def _workbook_rels(n: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Target="worksheets/sheet{i}.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        for i in range(1, n + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'{rels}<Relationship Id="rId{n + 1}" Target="styles.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"/></Relationships>'
    )


def write_xlsx(path: Path, sheets: list[Sheet]) -> None:
    """Write an XLSX: per sheet a bold frozen header, auto-filter, column widths and the rows (text cells,
    integer columns as numbers). A sheet must fit Excel's limit (`split` spreads a list over sheets).

    A standard SpreadsheetML package (Excel, LibreOffice, openpyxl and pandas read it), assembled directly and
    streamed into the archive chunk by chunk: openpyxl writes a cell at a time and takes minutes on a
    province's exception list.
    """
    import zipfile

    names, filters = [], []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        archive.writestr("xl/styles.xml", _STYLES)
        for number, sheet in enumerate(sheets, start=1):
            table = sheet.table
            if len(table) > EXCEL_MAX_ROWS:
                raise ValueError(f"sheet {number} has {len(table)} rows, more than Excel's {EXCEL_MAX_ROWS}")
            columns = list(table.columns)
            letters = [_letters(n) for n in range(1, len(columns) + 1)]
            last = f"{letters[-1]}{len(table) + 1}"
            header = (
                "<row>"
                + "".join(
                    f'<c t="inlineStr" s="1"><is><t>{html.escape(str(name), quote=False)}</t></is></c>'
                    for name in columns
                )
                + "</row>"
            )
            cols = "".join(
                f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate(sheet.widths, start=1)
            )
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as out:
                out.write(
                    (
                        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                        f'<dimension ref="A1:{last}"/>'
                        '<sheetViews><sheetView workbookViewId="0"'
                        + (' tabSelected="1"' if number == 1 else "")
                        + '><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                        'state="frozen"/></sheetView></sheetViews>'
                        f"<cols>{cols}</cols><sheetData>{header}"
                    ).encode("utf-8")
                )
                for start in range(0, len(table), CHUNK_ROWS):
                    out.write("".join(sheet_rows(table.iloc[start : start + CHUNK_ROWS])).encode("utf-8"))
                out.write(f'</sheetData><autoFilter ref="A1:{last}"/></worksheet>'.encode())
            quoted = html.escape(sheet.name.replace("'", "''"))
            names.append(f'<sheet name="{html.escape(sheet.name)}" sheetId="{number}" r:id="rId{number}"/>')
            filters.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{number - 1}" hidden="1">'
                f"'{quoted}'!$A$1:${letters[-1]}${len(table) + 1}</definedName>"
            )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{''.join(names)}</sheets><definedNames>{''.join(filters)}</definedNames></workbook>",
        )


def split(table: pd.DataFrame, name: str, widths: list[int]) -> list[Sheet]:
    """A list as sheets of at most EXCEL_MAX_ROWS rows each: `name`, `name (2)`, … — never truncated."""
    if len(table) <= EXCEL_MAX_ROWS:
        return [Sheet(name, table, widths)]
    return [
        Sheet(name if i == 0 else f"{name} ({i + 1})", table.iloc[start : start + EXCEL_MAX_ROWS], widths)
        for i, start in enumerate(range(0, len(table), EXCEL_MAX_ROWS))
    ]
