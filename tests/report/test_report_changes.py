"""The report's view of what changed since the previous night, on a copy of the scratch warehouse with a
hand-made `marts.fct_finding_changes` and `meta.extractions`: the change column, the sparklines, new / fixed per
commune and rule (counts of the table), new and long-open rows, stale sources. Counts only in messages."""

import base64
import datetime as dt
import gzip
import html
import json
import re
import shutil

import duckdb
import pytest

from assets.reporting.build import build_report
from assets.reporting.fmt import parse_number
from tests.report.scratch_warehouse import PREVIOUS

STALE_SINCE = dt.date(2026, 11, 20)
OPEN_SINCE = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def changed(scratch_warehouse, tmp_path_factory):
    """(warehouse, as_of, report folder): every third finding new, the others open since OPEN_SINCE, 4 findings
    fixed and 2 gone (keys that are no finding tonight), social stale since STALE_SINCE."""
    source, as_of = scratch_warehouse
    warehouse = tmp_path_factory.mktemp("changed") / "warehouse.duckdb"
    shutil.copyfile(source, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            """
            create table marts.fct_finding_changes as
            with numbered as (
                select *, row_number() over (order by source, source_record_id, rule_code) as n
                from marts.fct_findings where as_of = $as_of
            )
            select as_of, $previous as previous_as_of, source, source_record_id, rule_code, criterion,
                commune_code, case when n % 3 = 0 then 'new' else 'open' end as status,
                case when n % 3 = 0 then $as_of else $open_since end as first_seen_as_of
            from numbered
            union all
            select as_of, $previous, source, 'FIXED-' || n, rule_code, criterion, commune_code,
                case when n <= 4 then 'fixed' else 'gone' end, $open_since
            from numbered where n <= 6
            """,
            {"as_of": as_of, "previous": PREVIOUS, "open_since": OPEN_SINCE},
        )
        con.execute("create schema meta")
        con.execute(
            "create table meta.extractions as select $as_of::date as as_of, 'social' as source,"
            " 'BENEFICIARY' as table_name, 'stale' as mode, 'stale' as status, $since::date as state_as_of,"
            " 'connection refused' as error",
            {"as_of": as_of, "since": STALE_SINCE},
        )
    report = build_report(warehouse, as_of, tmp_path_factory.mktemp("out") / "reports").parent
    return warehouse, as_of, report


def test_change_column_is_the_difference_with_the_previous_night(changed):
    warehouse, as_of, report = changed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rates = dict(
            con.execute(
                "select indicator_code, rate - lag(rate) over (partition by indicator_code order by as_of)"
                " from marts.fct_indicators where scope_level = 'province' qualify as_of = ?",
                [as_of],
            ).fetchall()
        )
    html = (report / "index.html").read_text(encoding="utf-8")
    cells = re.findall(
        r'<tr data-indicator="([a-z_0-9]+)"[^>]*>.*?<td class="num delta[^"]*"><span class="l-vi">([^<]+)</span>',
        html,
        flags=re.S,
    )
    assert len(cells) >= len(rates) - 1 > 0
    for code, text in cells:
        shown = parse_number(text.replace("±", "").replace("+", ""), "vi")
        assert shown == pytest.approx(round(rates[code], 2), abs=0.006), f"{code}: change column"
    assert html.count('<svg class="spark"') == len(cells), "one sparkline per indicator"


def test_new_and_fixed_per_commune_and_rule_are_counts_of_the_table(changed):
    warehouse, as_of, report = changed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = con.execute(
            "select coalesce(commune_code, 'unknown') as commune, rule_code,"
            " count(*) filter (where status = 'new') as new, count(*) filter (where status = 'fixed') as fixed"
            " from marts.fct_finding_changes where as_of = ? group by all",
            [as_of],
        ).df()
    index = (report / "index.html").read_text(encoding="utf-8")
    by_commune = counts.groupby("commune")[["new", "fixed"]].sum()
    listed = dict(
        ((m[1]), (int(m[2]), int(m[3])))
        for m in re.finditer(r'data-commune="([^"]+)"[^>]*data-new="(\d+)" data-fixed="(\d+)"', index)
    )
    assert listed
    for code, pair in listed.items():
        assert pair == tuple(int(v) for v in by_commune.loc[code]), f"commune {code}"
    total_new, total_fixed = int(counts["new"].sum()), int(counts["fixed"].sum())
    kpi = re.search(r'id="kpi-changes">(.*?)</div></div>', index, re.S)[1]
    shown = [int(v.replace(".", "")) for v in re.findall(r'<span class="l-vi">([\d.]+)</span>', kpi)]
    assert shown == [total_new, total_fixed]
    for commune, part in counts.groupby("commune"):
        page = (report / "communes" / f"{commune}.html").read_text(encoding="utf-8")
        shown = {
            m[1]: (int(m[2]), int(m[3]))
            for m in re.finditer(r'<tr data-rule="([A-Z_]+)" data-new="(\d+)" data-fixed="(\d+)"', page)
        }
        want = {r.rule_code: (r.new, r.fixed) for r in part.itertuples() if r.new or r.fixed}
        assert {k: v for k, v in shown.items() if v != (0, 0)} == want, f"commune {commune}: per rule"


def test_rows_mark_new_and_nights_open(changed):
    warehouse, as_of, report = changed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        commune, new, total = con.execute(
            "select commune_code, count(*) filter (where status = 'new'), count(*) from marts.fct_finding_changes"
            " where as_of = ? and status in ('new', 'open') and commune_code is not null"
            " group by 1 order by 3 desc limit 1",
            [as_of],
        ).fetchone()
    payload = (report / "communes" / f"{commune}.rows.js").read_text(encoding="ascii").split('"')[1]
    data = json.loads(gzip.decompress(base64.b64decode(payload)))
    rows = [r for group in data["groups"] for r in group]
    columns = data["columns"]
    flags = [r[columns.index("new")] for r in rows]
    nights = [r[columns.index("open_nights")] for r in rows]
    assert (len(rows), sum(flags)) == (total, new)
    assert {n for f, n in zip(flags, nights, strict=True) if f} == {0}
    assert {n for f, n in zip(flags, nights, strict=True) if not f} == {(as_of - OPEN_SINCE).days}


def test_stale_source_is_marked_with_its_last_good_night(changed):
    _, _, report = changed
    index = (report / "index.html").read_text(encoding="utf-8")
    assert 'data-stale-source="social"' in index
    assert STALE_SINCE.strftime("%d/%m/%Y") in index
    tagged = set(re.findall(r'<tr data-indicator="([a-z_0-9]+)"[^>]*>(?:(?!</tr>).)*data-stale-since="', index, re.S))
    assert tagged and all(code.startswith("social_") or code.startswith("social") for code in tagged)
    assert "social_reconciled" in tagged and not any(code.startswith("vaccination") for code in tagged)


def test_changes_table_says_what_each_rule_means(changed):
    """Each row of the changes table carries its rule's description from the catalogue, in both languages."""
    warehouse, _as_of, report = changed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rules = dict(
            ((code), (vi, en))
            for code, vi, en in con.execute(
                "select rule_code, description_vi, description_en from reference.rules"
            ).fetchall()
        )
    index = (report / "index.html").read_text(encoding="utf-8")
    table = re.search(r'<table id="changes-table">(.*?)</table>', index, re.S)[1]
    rows = re.findall(r'<tr data-rule="([A-Z_]+)".*?</tr>', table, re.S)
    assert rows
    for code, row in zip(rows, re.findall(r'<tr data-rule="[A-Z_]+".*?</tr>', table, re.S), strict=True):
        vi, en = rules[code]
        text = html.unescape(row)
        assert vi[:40] in text and en[:40] in text, f"rule {code}: description missing"
