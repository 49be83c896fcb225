"""marts.fct_finding_changes over three nights of the tiny scenario, with changes planted in the sources between
nights by SQL: civil entries digitised (NOT_DIGITISED fixed), others un-digitised (new), vaccination subjects
deleted (their findings gone), one fix undone on the third night (new again, first seen that night). Then the
middle night is rerun on its own sources: its slice must come out identical. The report's new / fixed counts per
commune and rule must be counts of the table.

Nothing personal is printed: assertions compare counts, and civil / vaccination keys are never shown.
"""

import datetime as dt
import os
import re
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support import AS_OF, URL_VARIABLES, sqlite_urls

NIGHT1 = AS_OF
NIGHT2 = AS_OF + dt.timedelta(days=1)
NIGHT3 = AS_OF + dt.timedelta(days=2)
KEY = ["source", "source_record_id", "rule_code"]
COMMUNE_ROW = re.compile(r'data-commune="(?P<code>[^"]+)"[^>]*data-new="(?P<new>\d+)" data-fixed="(?P<fixed>\d+)"')
RULE_ROW = re.compile(r'<tr data-rule="(?P<rule>[A-Z_]+)" data-new="(?P<new>\d+)" data-fixed="(?P<fixed>\d+)"')


def _run(sources: Path, warehouse: Path, home: Path, night: dt.date) -> bool:
    """The nightly job on `sources` for `night` (environment restored after)."""
    from orchestration.cli import run_night

    saved = dict(os.environ)
    try:
        os.environ.update({URL_VARIABLES[s]: url for s, url in sqlite_urls(sources).items()})
        os.environ["DOISOAT_WAREHOUSE"] = str(warehouse)
        os.environ["DAGSTER_HOME"] = str(home)
        return run_night(night.isoformat())
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _findings(warehouse: Path, night: dt.date, rule: str | None = None, source: str | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select source, source_record_id, rule_code from marts.fct_findings where as_of = $night"
            " and ($rule is null or rule_code = $rule) and ($source is null or source = $source)",
            {"night": night, "rule": rule, "source": source},
        ).df()


def _changes(warehouse: Path, night: dt.date) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select * exclude (as_of) from marts.fct_finding_changes where as_of = ? order by all", [night]
        ).df()


def _keys(frame: pd.DataFrame) -> set[tuple]:
    return set(frame[KEY].itertuples(index=False, name=None))


def _with_status(changes: pd.DataFrame, status: str) -> set[tuple]:
    return _keys(changes[changes["status"] == status])


def _touch(con: sqlite3.Connection, table: str, key: str, column: str, ids: list, night: dt.date) -> None:
    """Mark rows changed on `night` (the table's update column), so that an incremental extraction sees them."""
    con.executemany(
        f"update {table} set {column} = ? where {key} = ?", [(f"{night.isoformat()} 09:00:00", i) for i in ids]
    )


def _set_digitised(sources: Path, ids: list[int], state: str, night: dt.date) -> None:
    with sqlite3.connect(sources / "civil.sqlite") as con:
        con.executemany("update ho_tich set trang_thai_so_hoa = ? where id = ?", [(state, i) for i in ids])
        _touch(con, "ho_tich", "id", "cap_nhat_luc", ids, night)


def _delete_subjects(sources: Path, ids: list[str]) -> None:
    with sqlite3.connect(sources / "vaccination.sqlite") as con:
        for table in ("mui_tiem", "ho_chieu_vac_xin"):
            columns = {row[1] for row in con.execute(f"pragma table_info({table})")}
            if "ma_doi_tuong" in columns:
                con.executemany(f"delete from {table} where ma_doi_tuong = ?", [(i,) for i in ids])
        con.executemany("delete from doi_tuong where ma_doi_tuong = ?", [(i,) for i in ids])


class Nights(dict):
    """What the fixture hands the tests; its repr says nothing of the rows (keys are personal data)."""

    def __repr__(self) -> str:
        return f"<three nights in {self['warehouse'].parent.name}>"


@pytest.fixture(scope="module")
def nights(tiny_sources, tiny_night, tmp_path_factory):
    """Night 1 is the session's tiny night (copied); nights 2 and 3 run on planted changes; night 2 is then
    rerun on its own sources. Returns what was planted and each night's slice of the table."""
    work = tmp_path_factory.mktemp("changes")
    shutil.copytree(tiny_night.parent, work / "night", dirs_exist_ok=True)
    warehouse, home = work / "night" / "warehouse.duckdb", work / "night" / "dagster_home"
    sources = work / "sources"
    shutil.copytree(tiny_sources, sources)

    not_digitised = sorted(int(i) for i in _findings(warehouse, NIGHT1, "NOT_DIGITISED")["source_record_id"])
    with sqlite3.connect(sources / "civil.sqlite") as con:
        query = "select id from ho_tich where trang_thai_so_hoa = 'DA_SO_HOA' order by id"
        digitised = [r[0] for r in con.execute(query)]
    vaccination = _findings(warehouse, NIGHT1, source="vaccination")
    planted = {
        "fixed": not_digitised[:6],  # digitised before night 2
        "broken": digitised[:5],  # un-digitised before night 2
        "deleted": sorted(set(vaccination["source_record_id"]))[:3],  # deleted before night 2
        "refixed_then_broken": not_digitised[:2],  # digitised for night 2, undone for night 3
        "fixed_night3": not_digitised[6:9],  # digitised before night 3
    }
    _set_digitised(sources, planted["fixed"], "DA_SO_HOA", NIGHT2)
    _set_digitised(sources, planted["broken"], "CHUA_SO_HOA", NIGHT2)
    _delete_subjects(sources, planted["deleted"])
    assert _run(sources, warehouse, home, NIGHT2), "night 2 failed"
    night2_sources = work / "sources_night2"
    shutil.copytree(sources, night2_sources)
    slice2 = _changes(warehouse, NIGHT2)

    _set_digitised(sources, planted["refixed_then_broken"], "DA_NHAP", NIGHT3)
    _set_digitised(sources, planted["fixed_night3"], "DA_SO_HOA", NIGHT3)
    assert _run(sources, warehouse, home, NIGHT3), "night 3 failed"
    slice3 = _changes(warehouse, NIGHT3)

    assert _run(night2_sources, warehouse, home, NIGHT2), "the rerun of night 2 failed"
    return Nights(
        warehouse=warehouse,
        planted=planted,
        slices={NIGHT1: _changes(warehouse, NIGHT1), NIGHT2: slice2, NIGHT3: slice3},
        rerun2=_changes(warehouse, NIGHT2),
        slice3_after_rerun=_changes(warehouse, NIGHT3),
    )


def test_first_night_is_all_new(nights):
    first = nights["slices"][NIGHT1]
    assert len(first) == len(_findings(nights["warehouse"], NIGHT1))
    assert set(first["status"]) == {"new"}
    assert first["previous_as_of"].isna().all()
    assert (pd.to_datetime(first["first_seen_as_of"]).dt.date == NIGHT1).all()


def test_planted_changes_night_2(nights):
    changes, planted = nights["slices"][NIGHT2], nights["planted"]
    assert (pd.to_datetime(changes["previous_as_of"]).dt.date == NIGHT1).all()
    fixed = {("civil", str(i), "NOT_DIGITISED") for i in planted["fixed"]}
    broken = {("civil", str(i), "NOT_DIGITISED") for i in planted["broken"]}
    n_not_fixed = len(fixed - _with_status(changes, "fixed"))
    n_not_new = len(broken - _with_status(changes, "new"))
    assert n_not_fixed == 0, f"{n_not_fixed} of the {len(fixed)} digitised entries are not `fixed`"
    assert n_not_new == 0, f"{n_not_new} of the {len(broken)} un-digitised entries are not `new`"
    # every finding of a deleted subject is gone, and nothing else is
    night1 = _findings(nights["warehouse"], NIGHT1, source="vaccination")
    deleted = _keys(night1[night1["source_record_id"].isin(planted["deleted"])])
    gone = _with_status(changes, "gone")
    assert len(deleted) > 0
    n_differ = len(gone ^ deleted)
    assert n_differ == 0, f"gone: {len(gone)} rows, deleted subjects' findings: {len(deleted)}, {n_differ} differ"
    # NOT_DIGITISED changed only where planted
    civil = changes[changes["rule_code"] == "NOT_DIGITISED"]
    n_other = len(_keys(civil[civil["status"] != "open"]) - fixed - broken)
    assert n_other == 0, f"{n_other} NOT_DIGITISED rows changed that were not planted"


def test_first_seen_and_reopened_night_3(nights):
    changes, planted = nights["slices"][NIGHT3], nights["planted"]
    keys = list(changes[KEY].itertuples(index=False, name=None))
    first_seen = dict(zip(keys, pd.to_datetime(changes["first_seen_as_of"]).dt.date, strict=True))
    status = dict(zip(keys, changes["status"], strict=True))
    for i in planted["refixed_then_broken"]:
        key = ("civil", str(i), "NOT_DIGITISED")
        assert (status.get(key), first_seen.get(key)) == ("new", NIGHT3), "an undone fix is not new on night 3"
    for i in planted["fixed_night3"]:
        key = ("civil", str(i), "NOT_DIGITISED")
        assert (status.get(key), first_seen.get(key)) == ("fixed", NIGHT1), "a night-3 fix is not fixed since night 1"
    for i in planted["broken"]:
        key = ("civil", str(i), "NOT_DIGITISED")
        assert (status.get(key), first_seen.get(key)) == ("open", NIGHT2), "a night-2 finding is not open since night 2"
    # every open finding: first seen = start of its unbroken run over the three nights, from fct_findings
    by_night = {n: _keys(_findings(nights["warehouse"], n)) for n in (NIGHT1, NIGHT2, NIGHT3)}
    wrong = 0
    for key in _with_status(changes, "open"):
        expected = NIGHT1 if key in by_night[NIGHT1] else NIGHT2
        wrong += first_seen[key] != expected
    assert wrong == 0, f"{wrong} open findings have the wrong first night"
    n_tonight = len(_keys(changes[changes["status"].isin(["new", "open"])]) ^ by_night[NIGHT3])
    n_before = len(_keys(changes[changes["status"].isin(["open", "fixed", "gone"])]) ^ by_night[NIGHT2])
    assert (n_tonight, n_before) == (0, 0), "new + open is not tonight's findings, or open + fixed + gone not night 2's"


def test_rerun_of_the_middle_night_is_identical(nights):
    before, after = nights["slices"][NIGHT2], nights["rerun2"]
    assert len(after) == len(before)
    merged = before.merge(after, how="outer", indicator=True)
    n_differ = int((merged["_merge"] != "both").sum())
    assert n_differ == 0, f"{n_differ} rows of the night-2 slice differ after its rerun"
    assert nights["slice3_after_rerun"].equals(nights["slices"][NIGHT3]), "rerunning night 2 changed night 3"


def _counts(warehouse: Path, night: dt.date) -> pd.DataFrame:
    """fct_finding_changes counted per commune bucket (as the report lists findings) and rule."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        province = con.execute(
            "select scope_code from marts.fct_indicators where as_of = ? and scope_level = 'province'", [night]
        ).fetchone()[0]
        return con.execute(
            """
            select
                case
                    when commune_code is null then 'unknown'
                    when commune_code not in (select commune_code from reference.admin_communes
                                              where province_code = $province) then 'outside'
                    else commune_code
                end as commune,
                rule_code,
                count(*) filter (where status = 'new') as new,
                count(*) filter (where status = 'fixed') as fixed
            from marts.fct_finding_changes where as_of = $night group by all
            """,
            {"night": night, "province": province},
        ).df()


def test_report_counts_are_counts_of_the_table(nights):
    """The night-3 report (built by the run; its counts do not depend on the later rerun of night 2)."""
    warehouse = nights["warehouse"]
    report = warehouse.parent / "reports" / NIGHT3.isoformat()
    expected = _counts(warehouse, NIGHT3)
    assert expected["new"].sum() > 0 and expected["fixed"].sum() > 0
    index = (report / "index.html").read_text(encoding="utf-8")
    listed = {m["code"]: (int(m["new"]), int(m["fixed"])) for m in COMMUNE_ROW.finditer(index)}
    per_commune = expected.groupby("commune")[["new", "fixed"]].sum()
    assert listed, "the commune table has no new / fixed columns"
    for code, (new, fixed) in listed.items():
        want = per_commune.loc[code] if code in per_commune.index else pd.Series({"new": 0, "fixed": 0})
        assert (new, fixed) == (int(want["new"]), int(want["fixed"])), f"commune {code}: new/fixed differ"
    checked_rules = 0
    for commune, part in expected.groupby("commune"):
        page = report / "communes" / f"{commune}.html"
        if not page.exists():  # a commune whose findings all went, with no indicator row left
            assert part["new"].sum() == 0
            continue
        text = page.read_text(encoding="utf-8")
        shown = {m["rule"]: (int(m["new"]), int(m["fixed"])) for m in RULE_ROW.finditer(text)}
        for row in part.itertuples():
            if row.new or row.fixed:
                assert shown.get(row.rule_code) == (row.new, row.fixed), f"commune {commune}, {row.rule_code} differ"
                checked_rules += 1
        counted = {r.rule_code: (r.new, r.fixed) for r in part.itertuples()}
        for rule, pair in shown.items():
            assert counted.get(rule, (0, 0)) == pair, f"commune {commune}, {rule}: the page shows other counts"
    assert checked_rules > 0


def test_kept_nights_after_retention(nights, tmp_path, monkeypatch):
    """DOISOAT_KEEP_NIGHTS=1: night 3 rerun removes nights 1 and 2's record-level rows (indicators kept); a rerun
    of night 2 then has no earlier night with findings to compare with (all `new`, no previous night), is kept
    itself, and night 1 stays refused by the report."""
    from assets.night import NightNotReady, check_night

    work = tmp_path / "kept"
    shutil.copytree(nights["warehouse"].parent, work)
    warehouse, home = work / "warehouse.duckdb", work / "dagster_home"
    changes_root = nights["warehouse"].parent.parent
    monkeypatch.setenv("DOISOAT_KEEP_NIGHTS", "1")
    assert _run(changes_root / "sources", warehouse, home, NIGHT3), "night 3 (kept: 1) failed"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kept = con.execute("select distinct as_of from marts.fct_findings order by 1").fetchall()
        indicator_nights = con.execute("select count(distinct as_of) from marts.fct_indicators").fetchone()[0]
        pruned = con.execute("select as_of from meta.pruned_nights order by 1").fetchall()
    assert kept == [(NIGHT3,)] and indicator_nights == 3 and pruned == [(NIGHT1,), (NIGHT2,)]
    assert _changes(warehouse, NIGHT3).equals(nights["slices"][NIGHT3]), "night 3's changes are as before"

    assert _run(changes_root / "sources_night2", warehouse, home, NIGHT2), "the rerun of night 2 failed"
    rerun = _changes(warehouse, NIGHT2)
    assert len(rerun) and set(rerun["status"]) == {"new"} and rerun["previous_as_of"].isna().all()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select as_of from meta.pruned_nights").fetchall() == [(NIGHT1,)]
    with pytest.raises(NightNotReady, match="DOISOAT_KEEP_NIGHTS"):
        check_night(warehouse, NIGHT1)
    check_night(warehouse, NIGHT2)
