"""The report's build on a scratch warehouse with a few things added: a commune of another province, quarantined
rows, a probabilistic link under a death finding; references, retention, and the linkage charts of a night."""

import base64
import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from assets.reporting.build import apply_retention, build_report, keep_nights_setting
from assets.reporting.refs import reference, resolve

KEY = "test-reference-key"


def _rows(report: Path, code: str) -> dict:
    """The decoded rows of a commune page: {"columns": [...], "groups": [[row, ...], ...]}."""
    payload = (report / "communes" / f"{code}.rows.js").read_text(encoding="ascii").split('"')[1]
    return json.loads(gzip.decompress(base64.b64decode(payload)))


@pytest.fixture(scope="module")
def altered(scratch_warehouse, tmp_path_factory):
    """A copy of the scratch warehouse: 5 findings moved to another province's commune, a probabilistic link
    under a DEATH_NOT_RECORDED finding, 7 quarantined rows (with a personal value in them)."""
    source, as_of = scratch_warehouse
    warehouse = tmp_path_factory.mktemp("altered") / "warehouse.duckdb"
    shutil.copyfile(source, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        other = con.execute(
            "select commune_code from reference.admin_communes where province_code <> '01' order by 1 limit 1"
        ).fetchone()[0]
        moved = con.execute(
            "select source, source_record_id, rule_code from marts.fct_findings where commune_code is not null"
            " order by source, source_record_id, rule_code limit 5"
        ).fetchall()
        for source, key, rule in moved:
            con.execute(
                "update marts.fct_findings set commune_code = ? where source = ? and source_record_id = ?"
                " and rule_code = ?",
                [other, source, key, rule],
            )
        death = con.execute(
            "select source, source_record_id from marts.fct_findings f where rule_code = 'DEATH_NOT_RECORDED'"
            " and source <> 'population' and commune_code is not null limit 1"
        ).fetchone()
        if death is None:  # make one: a civil record's finding
            death = con.execute(
                "select source, source_record_id from marts.fct_reconciliation where source = 'civil'"
                " and personal_id is not null and commune_code is not null limit 1"
            ).fetchone()
            con.execute(
                "insert into marts.fct_findings (source, source_record_id, rule_code, criterion, commune_code, as_of)"
                " select source, source_record_id, 'DEATH_NOT_RECORDED', 'song', commune_code, as_of"
                " from marts.fct_reconciliation where source = ? and source_record_id = ?",
                list(death),
            )
        con.execute(
            "update marts.fct_reconciliation set match_method = 'probabilistic', match_probability = 0.9312"
            " where source = ? and source_record_id = ?",
            list(death),
        )
        con.execute("create schema if not exists raw")
        con.execute(
            "create table raw._quarantine (source varchar, table_name varchar, record_key varchar,"
            " column_name varchar, reason varchar, row_json varchar, _as_of date, _extracted_at timestamp)"
        )
        for i in range(7):
            table, reason = ("doi_tuong", "ngay_sinh: not a date") if i < 5 else ("BENEFICIARY", "bad UTF-8")
            con.execute(
                "insert into raw._quarantine values ('vaccination', ?, ?, 'ngay_sinh', ?,"
                ' \'{"ho_ten": "Quarantined Secret Name"}\', ?, now())',
                [table, f"QKEY{i:04d}", reason, as_of],
            )
    finally:
        con.close()
    return warehouse, as_of, other, len(moved), death


@pytest.fixture(scope="module")
def report(altered, tmp_path_factory, monkeypatch_module):
    warehouse, as_of, *_ = altered
    monkeypatch_module.setenv("DOISOAT_REPORT_REF_KEY", KEY)
    return build_report(warehouse, as_of, tmp_path_factory.mktemp("out") / "reports").parent


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_outside_the_province_is_one_bucket(report, altered):
    _, _, other, moved, _ = altered
    index = (report / "index.html").read_text(encoding="utf-8")
    assert f'data-commune="{other}"' not in index, "another province's commune is not in the province's list"
    assert 'href="communes/outside.html"' in index
    rows = _rows(report, "outside")
    listed = [row for group in rows["groups"] for row in group]
    assert len(listed) == moved
    assert all(row[rows["columns"].index("commune")].startswith(other) for row in listed)
    assert not (report / "communes" / f"{other}.html").exists()


def test_quarantine_counts_without_personal_data(report):
    index = (report / "index.html").read_text(encoding="utf-8")
    table = index[index.index('id="quarantine-table"') :]
    table = table[: table.index("</table>")]
    assert 'data-table="doi_tuong"' in table and 'data-table="BENEFICIARY"' in table
    assert ">5</span>" in table and ">2</span>" in table, "counts per table and reason"
    assert "QKEY" not in index and "Secret" not in index, "counts and reasons only"


def test_probabilistic_death_finding_says_verify_first(report, altered):
    warehouse, as_of, _, _, death = altered
    con = duckdb.connect(str(warehouse), read_only=True)
    commune = con.execute(
        "select commune_code from marts.fct_findings where source = ? and source_record_id = ?"
        " and rule_code = 'DEATH_NOT_RECORDED'",
        list(death),
    ).fetchone()[0]
    con.close()
    rows = _rows(report, commune)
    columns = rows["columns"]
    wanted = reference(KEY, *death)
    flagged = [r for g in rows["groups"] for r in g if r[columns.index("reference")] == wanted]
    assert flagged and all(r[columns.index("method")] == 2 for r in flagged), "probabilistic link shown"
    assert any(r[columns.index("verify")] == 1 for r in flagged)
    assert pytest.approx(0.9312) in [r[columns.index("probability")] for r in flagged]
    others = [r for g in rows["groups"] for r in g if r[columns.index("reference")] != wanted]
    assert not any(r[columns.index("verify")] for r in others)


def test_references_are_stable_distinct_and_resolve(report, altered):
    warehouse, as_of, *_ = altered
    con = duckdb.connect(str(warehouse), read_only=True)
    code = con.execute(
        "select commune_code from marts.fct_findings where source = 'population' and commune_code is not null"
        " group by 1 order by count(*) desc limit 1"
    ).fetchone()[0]
    population = con.execute(
        "select source_record_id from marts.fct_findings where source = 'population' and commune_code = ?", [code]
    ).fetchall()
    con.close()
    rows = _rows(report, code)
    refs = {r[0] for g in rows["groups"] for r in g}
    population_refs = {reference(KEY, "population", key) for (key,) in population}
    assert population_refs <= refs, "every population finding has its own reference"
    assert len(population_refs) == len({key for (key,) in population}), "distinct people, distinct references"
    found = resolve(warehouse, as_of, sorted(population_refs)[:3], key=KEY)
    assert len(found) == 3 and set(found["source"]) == {"population"}
    assert {reference(KEY, "population", k) for k in found["source_record_id"]} == set(found["reference"])
    assert resolve(warehouse, as_of, sorted(population_refs)[:3], key="another key").empty, "the key matters"


def test_retention_keeps_the_newest_nights(tmp_path, monkeypatch):
    for night in ("2026-11-01", "2026-11-02", "2026-11-03"):
        (tmp_path / night).mkdir()
    (tmp_path / "2026-11-01-unmasked").mkdir()
    (tmp_path / "notes").mkdir()
    removed = apply_retention(tmp_path, 2)
    assert sorted(p.name for p in removed) == ["2026-11-01", "2026-11-01-unmasked"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11-02", "2026-11-03", "notes"]
    assert apply_retention(tmp_path, 0) == [], "0 keeps every night"
    monkeypatch.setenv("DOISOAT_REPORT_KEEP_NIGHTS", "7")
    assert keep_nights_setting() == 7
    monkeypatch.setenv("DOISOAT_REPORT_KEEP_NIGHTS", "seven")
    with pytest.raises(ValueError, match="DOISOAT_REPORT_KEEP_NIGHTS"):
        keep_nights_setting()


def test_linkage_charts_survive_the_night(tiny_night):
    from tests.support import AS_OF

    report = tiny_night.parent / "reports" / AS_OF.isoformat()
    assert (report / "index.html").exists()
    charts = sorted(p.name for p in (report / "linkage").glob("*.html"))
    assert charts == ["match_weights.html", "threshold.html"], "the linkage step's charts are kept"
    index = (report / "index.html").read_text(encoding="utf-8")
    assert 'href="linkage/match_weights.html"' in index and 'href="linkage/threshold.html"' in index


def test_footer_time_is_vietnam_time(report):
    index = (report / "index.html").read_text(encoding="utf-8")
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=7)))
    assert "(giờ Việt Nam, UTC+7)" in index and now.strftime("%d/%m/%Y") in index


def test_data_docs_copy_holds_this_night_only(tmp_path):
    from assets.reporting.build import copy_data_docs

    site = tmp_path / "site"
    for night in ("2026-11-24", "2026-11-25"):
        page = site / "validations" / "indicators_civil" / f"doisoat-{night}" / "run" / "page.html"
        page.parent.mkdir(parents=True)
        page.write_text("<html></html>")
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "help.gif").write_bytes(b"GIF89a")
    (site / "index.html").write_text("<html></html>")
    copy_data_docs(site, tmp_path / "copy", dt.date(2026, 11, 25))
    copied = sorted(p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*.html"))
    assert copied == ["index.html", "validations/indicators_civil/doisoat-2026-11-25/run/page.html"]
    assert not (tmp_path / "copy" / "static").exists()
