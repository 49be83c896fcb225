"""Masking: the rules, the SQL that applies them, no personal ID or full name anywhere in a masked report."""

import filecmp
from pathlib import Path

import duckdb
import plotly
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.reporting.build import build_report
from assets.reporting.masking import mask_id, mask_id_sql, mask_name, mask_name_sql
from tests.report.personal_data import leaks, personal_values

NAMES = [
    "Nguyễn Văn An",
    "NGUYỄN THỊ THÚY",
    "  trần   thị   hoà ",
    "Le Van Binh",
    "Đặng Đức",
    "Nguye\u0302\u0303n Va\u0306n Hu\u031bng",
    "An",
    "Phạm Thị Ngọc Ánh",
    "",
]
IDS = ["001234567845", "123456789", "0012", "", "079 123 456 789"]


def test_mask_rules():
    assert mask_id("001234567845") == "001*******45"
    assert mask_id("123456789") == "123****89"
    assert mask_id("0012") == "****"
    assert mask_id(None) == "" and mask_id("") == ""
    assert mask_name("Nguyễn Văn An") == "N. V. An"
    assert mask_name("NGUYỄN THỊ THÚY") == "N. T. Thúy"
    assert mask_name("Phạm Thị Ngọc Ánh") == "P. T. N. Ánh"
    assert mask_name("An") == "An"
    assert mask_name(None) == ""


def test_sql_masks_equal_python_masks():
    con = duckdb.connect()
    for name in NAMES:
        got = con.execute(f"select {mask_name_sql('$v')}", {"v": name}).fetchone()[0]
        assert (got or "") == mask_name(name), "name mask differs between SQL and Python"
    for value in IDS:
        got = con.execute(f"select {mask_id_sql('$v')}", {"v": value}).fetchone()[0]
        assert (got or "") == mask_id(value), "ID mask differs between SQL and Python"


_WORD = st.text(
    alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ\u0300\u0301\u0303\u0309\u0323",
    min_size=1,
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(_WORD, min_size=0, max_size=5),
    spaces=st.sampled_from([" ", "  ", " \t"]),
    digits=st.text(alphabet="0123456789 ", max_size=14),
)
def test_sql_and_python_masks_agree_on_generated_values(mask_con, words, spaces, digits):
    """Hypothesis: for generated Vietnamese-like names (decomposed marks, case, spacing) and ID-like strings
    the SQL masks (what a masked report uses) equal the Python masks."""
    name = spaces.join(words)
    got_name, got_id = mask_con.execute(
        f"select {mask_name_sql('$n')}, {mask_id_sql('$d')}", {"n": name, "d": digits}
    ).fetchone()
    assert (got_name or "") == mask_name(name)
    assert (got_id or "") == mask_id(digits)


@pytest.fixture(scope="module")
def mask_con():
    con = duckdb.connect()
    yield con
    con.close()


def _check_masked(warehouse: Path, as_of, out: Path):
    index = build_report(warehouse, as_of, out)
    assert index == out / as_of.isoformat() / "index.html"
    report = index.parent
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert filecmp.cmp(report / "static" / "plotly.min.js", plotly_js, shallow=False)  # verbatim library
    ids, names = personal_values(warehouse)
    n_ids, n_names = len(ids), len(names)  # counts only: a failing assert must not print the values
    assert n_ids > 10 and n_names > 10, "the test found the sources' personal data to look for"
    found = leaks(report, ids, names, skip={"static/plotly.min.js"})
    assert not found, f"personal values in the masked report: {found}"  # file names and counts only

    unmasked = build_report(warehouse, as_of, out, masked=False).parent
    assert unmasked.name == f"{as_of.isoformat()}-unmasked"
    assert leaks(unmasked, ids, names, skip={"static/plotly.min.js"}), "the scan finds names in an unmasked report"


def test_masked_report_has_no_personal_data_scratch(scratch_warehouse, tmp_path):
    warehouse, as_of = scratch_warehouse
    _check_masked(warehouse, as_of, tmp_path / "reports")


@pytest.mark.usefixtures("tiny_night")
def test_masked_report_has_no_personal_data_tiny(tiny_night, tmp_path):
    from tests.support import AS_OF

    _check_masked(tiny_night, AS_OF, tmp_path / "reports")
    # the report the nightly job itself built is masked too
    nightly = tiny_night.parent / "reports" / AS_OF.isoformat()
    assert (nightly / "index.html").exists(), "the nightly job built the report"
    ids, names = personal_values(tiny_night)
    found = leaks(nightly, ids, names, skip={"static/plotly.min.js"})
    assert not found, f"personal values in the nightly report: {found}"
