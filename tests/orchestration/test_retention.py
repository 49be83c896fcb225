"""Nights kept: the record-level marts' rows and the write-back folders of nights beyond the newest N go."""

import datetime as dt
import shutil

import duckdb
import pytest

from assets.night import NightNotReady, check_night
from assets.retention import RECORD_MARTS, keep_nights_setting, prune_marts, remove_old_night_folders
from tests.support import AS_OF


@pytest.fixture
def five_nights(tiny_night, tmp_path):
    """A copy of the tiny night's warehouse whose marts hold it as five nights (AS_OF and the four before)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(tiny_night, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for back in range(1, 5):
            for mart in (*RECORD_MARTS, "fct_indicators"):
                con.execute(
                    f"insert into marts.{mart} select * replace (as_of - {back} as as_of) from marts.{mart}"
                    " where as_of = ?",
                    [AS_OF],
                )
    return warehouse


def _nights(con, mart: str) -> list[dt.date]:
    return [row[0] for row in con.execute(f"select distinct as_of from marts.{mart} order by 1").fetchall()]


def test_nights_beyond_the_newest_are_removed_but_not_their_indicators(five_nights):
    nights = [AS_OF - dt.timedelta(days=back) for back in range(4, -1, -1)]
    with duckdb.connect(str(five_nights)) as con:
        rows_per_night = con.execute(
            "select count(*) from marts.fct_reconciliation where as_of = ?", [AS_OF]
        ).fetchone()
        deleted = prune_marts(con, AS_OF, keep=2)
        for mart in RECORD_MARTS:
            assert _nights(con, mart) in (nights[-2:], []), mart  # the review queue may be empty on a tiny night
        assert deleted["fct_reconciliation"] == 3 * rows_per_night[0]
        assert _nights(con, "fct_indicators") == nights, "the trends keep every night"
        pruned = [row[0] for row in con.execute("select as_of from meta.pruned_nights order by 1").fetchall()]
        assert pruned == nights[:3]
        # a rerun of an old night keeps it (tonight is never removed) and takes it off the list
        assert prune_marts(con, nights[0], keep=2) == {}
        assert (nights[0],) not in con.execute("select as_of from meta.pruned_nights").fetchall()
        assert prune_marts(con, AS_OF, keep=0) == {}, "0 keeps every night"
    with pytest.raises(NightNotReady, match=r"DOISOAT_KEEP_NIGHTS.*doisoat run --as-of") as refused:
        check_night(five_nights, nights[1])
    assert str(nights[1]) in str(refused.value) and "\n" not in str(refused.value)
    check_night(five_nights, AS_OF)  # the nights kept are still served


def test_write_back_folders_beyond_the_newest_go_but_never_tonights(tmp_path):
    for night in ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"):
        (tmp_path / night).mkdir()
    (tmp_path / "README.txt").write_text("kept")
    removed = remove_old_night_folders(tmp_path, 2, tonight=dt.date(2026, 11, 1))  # a rerun of an old night
    assert sorted(p.name for p in removed) == ["2026-11-02"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11-01", "2026-11-03", "2026-11-04", "README.txt"]


def test_keep_nights_setting_names_the_variable():
    assert keep_nights_setting(environ={}) == 30
    assert keep_nights_setting(environ={"DOISOAT_KEEP_NIGHTS": " 7 "}) == 7
    with pytest.raises(ValueError, match="DOISOAT_KEEP_NIGHTS must be a whole number"):
        keep_nights_setting(environ={"DOISOAT_KEEP_NIGHTS": "-1"})
