"""The report in a real headless browser (Debian's chromium): numbers equal fct_indicators, the English switch
works, a commune page and its CSV/XLSX open, nothing is fetched from the network; screenshots are kept."""

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

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


def _every_row_counted(page) -> int:
    """Page through every group of a commune page; check that each group's count is the rows it lists and
    that the rule filter's counts are the sums of the groups'; returns the rows listed."""
    total = 0
    by_rule: dict[str, int] = {}
    page.evaluate("document.querySelectorAll('.xgroup').forEach(g => { g.open = true; })")
    for group in page.locator(".xgroup").all():
        count = int(group.get_attribute("data-count"))
        shown = group.locator("tbody tr").count()
        while group.locator("[data-next]").is_enabled() and group.locator(".pager").is_visible():
            group.locator("[data-next]").click()
            shown += group.locator("tbody tr").count()
        assert shown == count, f"group {group.get_attribute('data-rule')}: {shown} rows listed, {count} counted"
        rule = group.get_attribute("data-rule")
        by_rule[rule] = by_rule.get(rule, 0) + count
        total += shown
    for option in page.locator("#rule-pick option[value]:not([value=''])").all():
        assert option.inner_text() == f"{option.get_attribute('value')} ({by_rule[option.get_attribute('value')]})"
    return total


ONE_LANGUAGE = """lang => {
  const other = lang === "vi" ? "en" : "vi";
  const mine = new Set([...document.querySelectorAll(".l-" + lang)].map(e => e.textContent.trim()));
  const foreign = [...document.querySelectorAll(".l-" + other)].map(e => e.textContent.trim())
    .filter(t => t.length >= 6 && !mine.has(t) && !/^[\\d.,%–−+± ]+$/.test(t));
  const visible = document.body.innerText;
  const found = foreign.filter(t => visible.includes(t));
  [...document.querySelectorAll("[placeholder], [aria-label], option, title")].forEach(e => {
    const own = e.getAttribute("data-placeholder-" + lang) || e.getAttribute("data-" + lang);
    const theirs = e.getAttribute("data-placeholder-" + other) || e.getAttribute("data-" + other);
    const text = e.getAttribute("placeholder") || e.textContent;
    if (theirs && text !== own) { found.push(text); }
    if (text.includes(" / ") && /[a-z]/i.test(text) && !/^\\S+ \\(/.test(text)) { found.push(text); }
  });
  return found;
}"""


def _one_language(page, lang: str) -> list[str]:
    """Texts of the other language visible on the page (in text, placeholders, options or the title)."""
    return page.evaluate(ONE_LANGUAGE, lang)


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

    # drill down: the commune with the most findings, its grouped rows (every one reachable) and its file
    findings = _commune_findings(warehouse, as_of)
    link = page.locator("#commune-table tbody tr a").first
    code = link.get_attribute("href").split("/")[-1].split(".")[0].split("?")[0]
    link.click()
    page.wait_for_load_state("load")
    assert page.url.split("?")[0].endswith(f"communes/{code}.html")
    assert page.evaluate("document.documentElement.lang") == "vi"
    page.wait_for_selector("#groups[data-loaded='1']")
    assert _every_row_counted(page) == findings[code], "the groups list every finding of the commune"
    assert _one_language(page, "vi") == [], "no English text on the Vietnamese page"
    reference = page.locator(".xgroup td.ref").first.inner_text()
    page.fill("#row-search", reference)
    found = page.locator(".xgroup tbody tr:visible")
    assert found.count() >= 1, "a reference finds its record"
    assert all(reference in row.inner_text() for row in found.all()), "and only its record's findings"
    page.fill("#row-search", "")
    for kind in ("xlsx", "csv"):  # the page builds the files from its rows, in its language
        with page.expect_download() as download:
            page.click(f"button[data-export='{kind}']")
        path = out / f"download.{kind}"
        download.value.save_as(path)
        table = pd.read_excel(path, dtype=str) if kind == "xlsx" else pd.read_csv(path, encoding="utf-8-sig", dtype=str)
        assert len(table) == findings[code], kind
        assert table["Mã lỗi"].notna().all() and table["Tham chiếu"].str.fullmatch("[0-9a-f]{16}").all()
        assert not table.duplicated(["Tham chiếu", "Mã lỗi"]).any(), "a reference and a rule name one finding"
    page.click("#lang-switch")
    assert _one_language(page, "en") == [], "no Vietnamese text on the English page"
    screenshot = out / f"report_{name}_commune_en_1366.png"
    page.screenshot(path=str(screenshot), full_page=False)
    _keep(screenshot)
    page.click("#lang-switch")

    # our own page of the gates, in the page's language; the GX Data Docs for engineers open offline
    page.goto(index.as_uri())
    assert _one_language(page, "vi") == [], "no English text on the Vietnamese index"
    page.click("#kiem-tra a[href^='gates.html']")
    page.wait_for_load_state("load")
    assert page.locator("#gates-table tbody tr").count() >= 1
    assert _one_language(page, "vi") == []
    docs = page.locator("#data-docs a[href^='gx-data-docs/validations/']")
    assert docs.count() >= 1, "the gates page links the night's GX validation pages"
    docs.first.click()
    page.wait_for_load_state("load")
    assert "Validation" in page.content()
    page.go_back()

    # a phone-sized screen
    phone, phone_state = _open(browser, index.as_uri(), 390)
    screenshot = out / f"report_{name}_index_vi_390.png"
    phone.screenshot(path=str(screenshot), full_page=False)
    _keep(screenshot)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling of the page"
    for cell in ("td.rate", "td.target", "td.status"):
        right = phone.evaluate(
            f"Math.max(...[...document.querySelectorAll('#indicator-table {cell}')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert right <= 390, f"{cell} of the indicator table is inside a 390 px screen"

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
