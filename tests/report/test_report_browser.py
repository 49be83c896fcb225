"""The report in a real headless browser (Debian's chromium): numbers equal fct_indicators, the English switch
works, a commune page and its CSV/XLSX open, nothing is fetched from the network; screenshots are kept."""

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import duckdb
import pandas as pd
import pytest

from assets.reporting.build import build_report
from assets.reporting.fmt import parse_number
from expectations.gx.gates import gx_root_for, run_gates

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TEST_OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("DOISOAT_TEST_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and DOISOAT_TEST_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium; set DOISOAT_TEST_REQUIRE_BROWSER to fail)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


def _keep(screenshot: Path) -> None:
    TEST_OUTPUT.mkdir(exist_ok=True)
    shutil.copyfile(screenshot, TEST_OUTPUT / screenshot.name)


def _province_rows(warehouse, as_of) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select indicator_code, numerator, denominator, rate from marts.fct_indicators"
            " where as_of = ? and scope_level = 'province'",
            [as_of],
        ).fetchall()
    finally:
        con.close()
    return {code: (numerator, denominator, rate) for code, numerator, denominator, rate in rows}


def _commune_findings(warehouse, as_of) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select coalesce(commune_code, 'unknown'), count(*) from marts.fct_findings where as_of = ? group by 1",
            [as_of],
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def _open(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    state = {"errors": [], "remote": []}
    page.on("pageerror", lambda error: state["errors"].append(str(error)))

    def route(route_):
        if urlparse(route_.request.url).scheme not in ("file", "data", "blob", "about"):
            state["remote"].append(route_.request.url)
            return route_.abort()
        return route_.continue_()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_load_state("load")
    return page, state


def _displayed(page, code: str, lang: str) -> tuple[float, float, float]:
    row = page.locator(f"#indicator-table tr[data-indicator='{code}']")
    cell = lambda name: row.locator(f"td.{name} .l-{lang}").inner_text()  # noqa: E731
    return (
        parse_number(cell("numerator"), lang),
        parse_number(cell("denominator"), lang),
        parse_number(cell("rate"), lang),
    )


def check_report(browser, warehouse: Path, as_of, out: Path, name: str) -> None:
    index = build_report(warehouse, as_of, out)
    mart = _province_rows(warehouse, as_of)
    page, state = _open(browser, index.as_uri(), 1366)

    # Vietnamese by default, and the numbers shown are fct_indicators' (rate rounded to 2 decimals)
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert "Báo cáo chất lượng" in page.locator("h1").inner_text()
    shown = page.locator("#indicator-table tr[data-indicator]")
    assert shown.count() == len(mart)
    for code, (numerator, denominator, rate) in mart.items():
        got = _displayed(page, code, "vi")
        assert got[:2] == (numerator, denominator), code
        assert got[2] == pytest.approx(round(rate, 2), abs=1e-9) if rate is not None else True, code
    assert page.locator(".js-plotly-plot").count() >= 2, "plotly drew the charts"
    screenshot = out / f"report_{name}_index_vi_1366.png"
    page.screenshot(path=str(screenshot), full_page=True)
    _keep(screenshot)

    # the English switch
    page.click("#lang-switch")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Population data quality report" in page.locator("h1").inner_text()
    assert page.locator("#indicator-table .l-vi").first.is_hidden()
    for code, (numerator, denominator, _rate) in mart.items():
        got = _displayed(page, code, "en")
        assert got[:2] == (numerator, denominator), code
    screenshot = out / f"report_{name}_index_en_1366.png"
    page.screenshot(path=str(screenshot), full_page=True)
    _keep(screenshot)
    page.click("#lang-switch")  # back to Vietnamese (remembered across pages)

    # drill down: the commune with the most findings, its exception list and downloads
    findings = _commune_findings(warehouse, as_of)
    link = page.locator("#commune-table tbody tr:not([data-commune='unknown']) a").first
    code = link.get_attribute("href").split("/")[-1].split(".")[0].split("?")[0]
    link.click()
    page.wait_for_load_state("load")
    assert page.url.split("?")[0].endswith(f"communes/{code}.html")
    assert page.evaluate("document.documentElement.lang") == "vi"
    rows = page.locator("#exception-table tbody tr")
    assert rows.count() == min(findings[code], 1000)
    page.fill("input[data-filter='exception-table']", rows.first.locator("td.code").first.inner_text())
    assert 1 <= page.locator("#exception-table tbody tr:visible").count() <= rows.count()
    page.fill("input[data-filter='exception-table']", "")
    for lang, headers in (("vi", "Mã lỗi"), ("en", "Rule")):
        if lang == "en":
            page.click("#lang-switch")
        csv_href = page.locator(f".l-{lang} a[href$='_{lang}.csv']").first.get_attribute("href")
        xlsx_href = page.locator(f".l-{lang} a[href$='_{lang}.xlsx']").first.get_attribute("href")
        base = Path(url2pathname(urlparse(page.url).path)).parent
        table = pd.read_csv(base / csv_href, encoding="utf-8-sig", dtype=str)
        sheet = pd.read_excel(base / xlsx_href, dtype=str)
        assert len(table) == len(sheet) == findings[code]
        assert headers in table.columns and headers in sheet.columns
        assert table[headers].notna().all()
    screenshot = out / f"report_{name}_commune_en_1366.png"
    page.screenshot(path=str(screenshot), full_page=False)
    _keep(screenshot)
    page.click("#lang-switch")

    # the GX Data Docs of the night open from the report, offline
    page.goto(index.as_uri())
    docs = page.locator("#kiem-tra a[href^='gx-data-docs/validations/']")
    assert docs.count() >= 1, "the report links the night's GX validation pages"
    docs.first.click()
    page.wait_for_load_state("load")
    assert "Validation" in page.content()
    page.go_back()

    # a phone-sized screen
    phone, phone_state = _open(browser, index.as_uri(), 390)
    screenshot = out / f"report_{name}_index_vi_390.png"
    phone.screenshot(path=str(screenshot), full_page=False)
    _keep(screenshot)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400, "no sideways scrolling of the page"

    assert not state["errors"] and not phone_state["errors"], "no script errors"
    assert not state["remote"] and not phone_state["remote"], "nothing fetched from the network"
    page.close()
    phone.close()


def test_report_in_browser_scratch(browser, scratch_warehouse, tmp_path):
    source, as_of = scratch_warehouse
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(source, warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        run_gates(con, as_of, gx_root_for(warehouse))  # what the quality asset does before the report
    finally:
        con.close()
    check_report(browser, warehouse, as_of, tmp_path, "scratch")


def test_report_in_browser_tiny_night(browser, tiny_night, tmp_path):
    from tests.support import AS_OF

    check_report(browser, tiny_night, AS_OF, tmp_path, "tiny")
