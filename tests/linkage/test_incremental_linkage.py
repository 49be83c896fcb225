"""The incremental linkage: a night rescores only what changed since a committed night, with frozen night-wide
parameters, and its outputs equal a full rescoring with the same parameters (md5 of the sorted rows)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import duckdb
import pytest

from assets.linkage_model.predict import LINKS_TABLE, REVIEW_TABLE, link_night
from assets.linkage_model.scoring import STATE_LAYOUT, STATE_SCHEMA, commit_state
from assets.night import begin_night, ensure_status_table
from tests.linkage.handmade import COMMUNES, load, namesake_world, people, record_of

AS_OF = dt.date(2026, 11, 25)
NEXT = AS_OF + dt.timedelta(days=1)


def output_hashes(con) -> dict[str, tuple[int, str]]:
    """Rows and md5 of the sorted rows of both output tables."""
    out = {}
    for table in (LINKS_TABLE, REVIEW_TABLE):
        out[table] = con.execute(
            "select count(*), md5(coalesce(string_agg(cast(t as varchar), chr(10) order by cast(t as varchar)), ''))"
            f" from {table} as t"
        ).fetchone()
    return out


def commit(con, as_of: dt.date, run_id: str, status: str = "complete") -> None:
    """What the night's run does once its marts are whole: meta.night_status names the run, and (published) the
    run's linkage state is committed in the same transaction (assets/dbt.py)."""
    ensure_status_table(con)
    con.execute(
        "insert or replace into meta.night_status values (?, ?, ?, 'marts', now(), now(), now())",
        [as_of, run_id, status],
    )
    if status in ("published", "complete"):
        commit_state(con, as_of, run_id)


def begin(con, as_of: dt.date, run_id: str) -> None:
    """What a (re)run of a night does first: meta.night_status names it, `running` (assets/night.begin_night)."""
    begin_night(con, as_of, run_id)


def grown_master(master):
    """The master with 60 more people under new IDs: its size drifts beyond the kept parameters' tolerance."""
    added = [dataclasses.replace(p, personal_id=f"0792{i:08d}") for i, p in enumerate(people(60, seed=11))]
    return master + added


def link(con, as_of, run_id, **options):
    return link_night(con, as_of, holdout_size=0, run_id=run_id, **options)


@pytest.fixture()
def world(tmp_path):
    """400 people, two namesakes in two communes, and sector records (as tests/linkage/test_linkage_units)."""
    master, records = namesake_world()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load(con, master, records)
    yield con, master, records
    con.close()


def test_a_changed_master_row_changes_an_unchanged_records_candidates(world):
    con, master, records = world
    first = link(con, AS_OF, "r1")
    assert not first.incremental and first.parameters_refreshed
    links = {r[0] for r in con.execute(f"select source_record_id from {LINKS_TABLE}").fetchall()}
    assert "namesake_a" in links  # A's commune tells the namesakes apart
    commit(con, AS_OF, "r1")

    # tonight the namesake B moves into A's commune: the record of A, unchanged, now has two equal candidates
    b = master[-1]
    moved = [*master[:-1], dataclasses.replace(b, commune=COMMUNES[0])]
    load(con, moved, records)
    tonight = link(con, NEXT, "r2")
    assert tonight.incremental and tonight.base_as_of == AS_OF.isoformat()
    assert not tonight.parameters_refreshed, tonight.parameters_reason
    assert (tonight.records_changed, tonight.master_changed) == (0, 1)
    assert 0 < tonight.pairs_scored < first.pairs_scored and tonight.pairs_kept > 0
    incremental = output_hashes(con)
    links = {r[0] for r in con.execute(f"select source_record_id from {LINKS_TABLE}").fetchall()}
    queued = con.execute(
        f"select personal_id from {REVIEW_TABLE} where source_record_id = 'namesake_a' order by 1"
    ).fetchall()
    assert "namesake_a" not in links and queued == [("079199000001",), ("079199000002",)]

    # a full rescoring of the same night with the same (kept) parameters gives the same rows
    full = link(con, NEXT, "r2-full", rescore_all=True)
    assert not full.incremental and not full.parameters_refreshed
    assert full.pairs_scored == full.candidate_pairs == tonight.candidate_pairs
    assert output_hashes(con) == incremental


def test_changed_and_removed_records_are_rescored_and_dropped(world):
    con, master, records = world
    link(con, AS_OF, "r1")
    commit(con, AS_OF, "r1")
    # v0 gets another birth date, v1 disappears, a new record arrives; the master is unchanged
    changed = [dict(records[0], birth_date=dt.date(1901, 1, 1)), *records[2:]]
    changed.append(record_of(master[200], "children", "new"))
    load(con, master, changed)
    tonight = link(con, NEXT, "r2")
    assert tonight.incremental and (tonight.records_changed, tonight.master_changed) == (2, 0)
    incremental = output_hashes(con)
    uids = {r[0] for r in con.execute(f"select source_record_id from {LINKS_TABLE}").fetchall()}
    assert "v1" not in uids and "new" in uids
    link(con, NEXT, "r2-full", rescore_all=True)
    assert output_hashes(con) == incremental


@pytest.mark.parametrize(
    "status, run_id",
    [("failed", "r1"), ("running", "r1"), ("complete", "an earlier run of the night")],
)
def test_the_state_of_a_night_that_did_not_commit_is_not_used(world, status, run_id):
    con, _, _ = world
    link(con, AS_OF, "r1")
    # the night failed after the linkage, or was killed in it, or a rerun of a committed night was killed after
    # its linkage (the status still names the earlier run)
    commit(con, AS_OF, run_id, status=status)
    tonight = link(con, NEXT, "r2")
    assert not tonight.incremental and tonight.parameters_refreshed
    assert tonight.parameters_reason == "no committed linkage state for this model"
    commit(con, NEXT, "r2")
    after = link(con, NEXT + dt.timedelta(days=1), "r3")
    assert after.incremental and after.base_as_of == NEXT.isoformat()


def test_a_rerun_of_a_past_night_gives_its_outputs_again(world):
    con, master, records = world
    link(con, AS_OF, "r1")
    commit(con, AS_OF, "r1")
    first = output_hashes(con)
    # the next night drifts (a new commune's worth of people): it refreshes its parameters
    grown = grown_master(master)
    load(con, grown, records)
    later = link(con, NEXT, "r2")
    assert later.parameters_refreshed and "master size" in later.parameters_reason
    commit(con, NEXT, "r2")
    # the past night again, on its own sources: its own parameters, nothing to rescore, the same rows
    load(con, master, records)
    again = link(con, AS_OF, "r3")
    assert again.parameters_reason.startswith("the night's own parameters")
    assert again.incremental and again.base_as_of == AS_OF.isoformat()
    assert (again.records_changed, again.master_changed, again.pairs_scored) == (0, 0, 0)
    assert output_hashes(con) == first


def test_a_killed_rerun_leaves_the_published_state_of_its_night_usable(world):
    con, master, records = world
    link(con, AS_OF, "r1")
    commit(con, AS_OF, "r1")
    first = output_hashes(con)
    grown = grown_master(master)
    load(con, grown, records)
    assert link(con, NEXT, "r2").parameters_refreshed  # the next night drifts: its own parameters
    commit(con, NEXT, "r2")
    # a rerun of the first night on other sources is killed after its linkage kept its state: the status names it
    begin(con, AS_OF, "r3")
    link(con, AS_OF, "r3")
    commit(con, AS_OF, "r3", status="failed")
    # the night rerun again on its own sources: the parameters and the rows it published, not the next night's
    load(con, master, records)
    begin(con, AS_OF, "r4")
    again = link(con, AS_OF, "r4")
    assert again.parameters_reason.startswith("the night's own parameters"), again.parameters_reason
    assert again.incremental and again.base_as_of == AS_OF.isoformat() and again.pairs_scored == 0
    assert output_hashes(con) == first
    commit(con, AS_OF, "r4")
    runs = con.execute(f"select as_of, run_id from {STATE_SCHEMA}.nights order by 1, 2").fetchall()
    assert runs == [(AS_OF, "r1"), (AS_OF, "r4"), (NEXT, "r2")]  # r3 never published: dropped
    link(con, NEXT + dt.timedelta(days=1), "r5")
    runs = con.execute(f"select as_of, run_id from {STATE_SCHEMA}.nights order by 1, 2").fetchall()
    assert (AS_OF, "r1") not in runs and (AS_OF, "r4") in runs  # the night's latest published run stays


def test_the_holdout_is_measured_with_new_parameters_and_kept_with_them(world):
    con, master, records = world
    # records that carry their person's ID: the hold-out scores them as if they had none
    load(
        con,
        master,
        records + [record_of(p, "social", f"id{i}", id12=p.personal_id) for i, p in enumerate(master[100:160])],
    )
    first = link_night(con, AS_OF, holdout_size=40, run_id="r1")
    assert first.holdout["records"] > 0 and "holdout" in first.seconds
    assert first.holdout_as_of == AS_OF.isoformat()
    commit(con, AS_OF, "r1")
    tonight = link_night(con, NEXT, holdout_size=40, run_id="r2")
    assert not tonight.parameters_refreshed and "holdout" not in tonight.seconds
    assert tonight.holdout == first.holdout and tonight.holdout_as_of == AS_OF.isoformat()
    other = link_night(con, NEXT, holdout_size=40, run_id="r3", refresh_parameters=True)
    assert "holdout" in other.seconds and other.holdout_as_of == NEXT.isoformat()


def test_a_state_of_another_layout_is_dropped(world):
    con, _, _ = world
    link(con, AS_OF, "r1")
    commit(con, AS_OF, "r1")
    con.execute(f"update {STATE_SCHEMA}.layout set version = {STATE_LAYOUT - 1}")
    tonight = link(con, NEXT, "r2")
    assert not tonight.incremental and tonight.parameters_reason == "no committed linkage state for this model"
    assert con.execute(f"select version from {STATE_SCHEMA}.layout").fetchall() == [(STATE_LAYOUT,)]


def test_refresh_and_model_change_recompute_the_parameters(world, tmp_path):
    import json

    from assets.linkage_model.model import MODEL_PATH

    con, _, _ = world
    link(con, AS_OF, "r1")
    commit(con, AS_OF, "r1")
    assert link(con, NEXT, "r2", refresh_parameters=True).parameters_reason == "refresh asked"
    body = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    body["splink_model"]["comparisons"][0]["comparison_levels"][1]["m_probability"] *= 0.9
    other = tmp_path / "model.json"
    other.write_text(json.dumps(body), encoding="utf-8")
    changed = link_night(con, NEXT, holdout_size=0, run_id="r3", model_path=other)
    assert changed.parameters_refreshed and not changed.incremental


def test_old_states_are_purged(world):
    con, _, _ = world
    for n in range(5):
        night = AS_OF + dt.timedelta(days=n)
        link(con, night, f"r{n}")
        commit(con, night, f"r{n}")
    kept = [r[0] for r in con.execute(f"select distinct as_of from {STATE_SCHEMA}.candidates order by 1").fetchall()]
    assert kept == [AS_OF + dt.timedelta(days=n) for n in (2, 3, 4)]
    nights = con.execute(f"select count(*), count(*) filter (where rows_kept) from {STATE_SCHEMA}.nights").fetchone()
    assert nights == (5, 3)
    assert con.execute(f"select count(*) from {STATE_SCHEMA}.params").fetchone()[0] == 1


# --- the simulator: a night advanced, run by Dagster as every night is ------------------------------------------


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    from tests.support import advance_into, run_nights_on, simulate_into

    work = tmp_path_factory.mktemp("incremental")
    sources, warehouse, home = work / "sources", work / "warehouse.duckdb", work / "dagster_home"
    simulate_into(sources, "tiny")
    assert run_nights_on(sources, warehouse, home, AS_OF)
    advance_into(sources, NEXT)
    assert run_nights_on(sources, warehouse, home, NEXT)
    return work


def test_an_advanced_night_links_incrementally_as_a_full_rescoring_would(two_nights, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(two_nights / "warehouse.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        modes = dict(con.execute(f"select as_of, mode from {STATE_SCHEMA}.nights").fetchall())
        assert modes == {AS_OF: "full", NEXT: "incremental"}
        changed = con.execute(
            f"select records_changed, master_changed, pairs_scored, pairs_kept from {STATE_SCHEMA}.nights"
            " where as_of = ?",
            [NEXT],
        ).fetchone()
        assert changed[0] > 0 and changed[1] > 0 and 0 < changed[2] < changed[3]
        incremental = output_hashes(con)
        # the same night rescored whole with the same parameters (its own, kept), outside Dagster
        full = link(con, NEXT, "check", rescore_all=True)
        assert not full.incremental and not full.parameters_refreshed
        assert full.parameters_reason.startswith("the night's own parameters")
        assert output_hashes(con) == incremental
