"""Nights with a memory: three simulated nights, reruns of a past night, a full refresh, deletions, SIGKILL.

The sources are the tiny scenario, advanced twice by the simulator (about 1 % of rows changed each night: births,
deaths, moves, corrections, new defects, inserts, updates and deletes). Marts are compared night by night with
the md5 of their sorted rows (tests/support.mart_hashes).
"""

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support import (
    AS_OF,
    advance_into,
    lines_until,
    mart_hashes,
    night_env,
    run_nights_on,
    simulate_into,
    start_cli,
)

ROOT = Path(__file__).resolve().parents[2]
NIGHTS = [AS_OF + dt.timedelta(days=n) for n in range(3)]


@pytest.fixture(scope="module")
def three_nights(tmp_path_factory):
    """Sources advanced night by night and a warehouse that ran each night; marts' hashes after each night."""
    work = tmp_path_factory.mktemp("nights")
    sources, warehouse, home = work / "sources", work / "warehouse.duckdb", work / "dagster_home"
    simulate_into(sources, "tiny")
    hashes, truths = {}, {}
    for number, night in enumerate(NIGHTS):
        if number:
            advance_into(sources, night)
        truths[night] = pd.read_parquet(sources / "ground_truth.parquet")
        if number == 2:  # the warehouse as night 2 left it, for the interrupted nights below
            shutil.copyfile(warehouse, work / "after_night_2.duckdb")
        assert run_nights_on(sources, warehouse, home, night), f"night {night} failed"
        hashes[night] = mart_hashes(warehouse, night)
    return {"work": work, "sources": sources, "warehouse": warehouse, "home": home, "hashes": hashes, "truths": truths}


def test_three_nights_give_three_slices_and_an_extraction_log(three_nights):
    with duckdb.connect(str(three_nights["warehouse"]), read_only=True) as con:
        for mart in ("fct_reconciliation", "fct_findings", "fct_indicators"):
            nights = [row[0] for row in con.execute(f"select distinct as_of from marts.{mart} order by 1").fetchall()]
            assert nights == NIGHTS, mart
        modes = dict(
            con.execute(
                "select as_of, list(distinct mode order by mode) from meta.extractions group by as_of"
            ).fetchall()
        )
    assert modes[NIGHTS[0]] == ["full"]
    # later nights read what changed (tables with an update column) or compare whole tables (those without)
    assert "incremental" in modes[NIGHTS[1]] and "incremental" in modes[NIGHTS[2]]
    # the sources really changed between nights, and so did the marts
    assert (
        three_nights["hashes"][NIGHTS[1]]["fct_reconciliation"]
        != three_nights["hashes"][NIGHTS[2]]["fct_reconciliation"]
    )


def test_a_record_deleted_at_its_source_leaves_the_next_nights_marts_only(three_nights):
    before, after = three_nights["truths"][NIGHTS[1]], three_nights["truths"][NIGHTS[2]]
    sector = before[before["source"] != "population"]
    keys = ["source", "source_record_id"]
    deleted = sector.merge(after[keys], on=keys, how="left", indicator=True).query("_merge == 'left_only'")[keys]
    assert len(deleted) > 0, "the simulator deleted no sector record between nights 2 and 3"
    with duckdb.connect(str(three_nights["warehouse"]), read_only=True) as con:
        con.register("deleted", deleted)
        counts = dict(
            con.execute(
                "select as_of, count(*) from marts.fct_reconciliation join deleted using (source, source_record_id)"
                " group by as_of"
            ).fetchall()
        )
    assert counts.get(NIGHTS[1]) == len(deleted)  # in the earlier night's marts
    assert counts.get(NIGHTS[2], 0) == 0  # gone from the next night's


@pytest.mark.parametrize("night_index", [1, 2])
def test_finding_changes_equal_the_simulators_truth_record_by_record(three_nights, night_index):
    """fct_finding_changes of nights 2 and 3 against the truth's changes (new/open/fixed/gone, first seen).

    Rules that need no link must agree exactly; rules that depend on a link (and NOT_LINKED) may differ only
    where Splink misses or adds a link, as in tests/reconciliation (≥ 98 % either way).
    """
    from simulator.truth import expected_finding_changes

    night = NIGHTS[night_index]
    truths = [(n, three_nights["truths"][n]) for n in NIGHTS[: night_index + 1]]
    expected = expected_finding_changes(truths, column="rule_codes")
    with duckdb.connect(str(three_nights["warehouse"]), read_only=True) as con:
        actual = con.execute(
            "select source, source_record_id, rule_code, status, first_seen_as_of, previous_as_of"
            " from marts.fct_finding_changes where as_of = ?",
            [night],
        ).df()
    assert set(actual["previous_as_of"].astype(str)) == {NIGHTS[night_index - 1].isoformat()}
    keys = ["source", "source_record_id", "rule_code", "status", "first_seen_as_of"]
    for frame in (expected, actual):
        frame["first_seen_as_of"] = pd.to_datetime(frame["first_seen_as_of"]).dt.date.astype(str)
    merged = expected[keys].merge(actual[keys], on=keys, how="outer", indicator=True)
    needs_link = pd.read_csv("seeds/rules.csv", dtype=str).set_index("rule_code")["needs_link"] == "true"
    linked = merged["rule_code"].map(needs_link).fillna(False) | (merged["rule_code"] == "NOT_LINKED")
    exact = merged[~linked]
    assert (exact["_merge"] == "both").all(), exact.groupby(["rule_code", "status", "_merge"]).size().to_string()
    close = merged[linked]
    agree = (close["_merge"] == "both").sum()
    assert agree >= 0.98 * (close["_merge"] != "right_only").sum()  # recall
    assert agree >= 0.98 * (close["_merge"] != "left_only").sum()  # precision
    assert set(merged.loc[merged["_merge"] == "both", "status"]) >= {"new", "open", "fixed"}


def test_rerunning_a_past_night_gives_its_marts_again(three_nights):
    night = NIGHTS[1]
    assert run_nights_on(three_nights["sources"], three_nights["warehouse"], three_nights["home"], night)
    assert mart_hashes(three_nights["warehouse"], night) == three_nights["hashes"][night]
    # the later night is untouched
    assert mart_hashes(three_nights["warehouse"], NIGHTS[2]) == three_nights["hashes"][NIGHTS[2]]
    with duckdb.connect(str(three_nights["warehouse"]), read_only=True) as con:
        modes = {row[0] for row in con.execute("select mode from meta.extractions where as_of = ?", [night]).fetchall()}
    assert modes == {"replay"}  # no source was read: the state came from the history


def test_an_incremental_night_equals_a_full_refresh_of_the_same_sources(three_nights):
    night = NIGHTS[2]
    ok = run_nights_on(
        three_nights["sources"], three_nights["warehouse"], three_nights["home"], night, full_refresh=True
    )
    assert ok
    with duckdb.connect(str(three_nights["warehouse"]), read_only=True) as con:
        modes = {row[0] for row in con.execute("select mode from meta.extractions where as_of = ?", [night]).fetchall()}
    assert modes == {"full"}
    assert mart_hashes(three_nights["warehouse"], night) == three_nights["hashes"][night]


# when to kill: (what the console has printed, seconds to wait after it)
KILL_POINTS = {
    "ingestion": (lambda lines: any("ok      ingest" in line for line in lines), 0.5),
    # the nine tables are in (their freshness checks take a second), dbt staging runs for tens of seconds
    "dbt": (lambda lines: sum("ok      ingest" in line and "_source_" not in line for line in lines) == 9, 6.0),
    "linkage": (lambda lines: any("dbt: seeds, staging" in line for line in lines), 1.0),
    "report": (lambda lines: any("quality gates (GX)" in line for line in lines), 1.0),
}


@pytest.mark.parametrize("step", list(KILL_POINTS))
def test_a_night_killed_then_rerun_gives_the_marts_of_an_uninterrupted_night(three_nights, tmp_path, step):
    night = NIGHTS[2]
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(three_nights["work"] / "after_night_2.duckdb", warehouse)
    env = {
        **os.environ,
        **night_env(three_nights["sources"], warehouse, tmp_path / "dagster_home"),
        "DOISOAT_AS_OF": "",
    }
    reached, pause = KILL_POINTS[step]
    process = start_cli(["run", "--as-of", night.isoformat()], env)
    lines_until(process, reached, timeout=1800)
    time.sleep(pause)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    rerun = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--as-of", night.isoformat()],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert mart_hashes(warehouse, night) == three_nights["hashes"][night]


# Last in this module: it moves the shared sources on to a fourth night, with one source down and one stale.
def test_a_source_down_is_alerted_and_the_others_are_reconciled(three_nights, smtp_server, monkeypatch):
    from tests.alerts.conftest import assert_no_personal_data

    controller, inbox = smtp_server
    night = NIGHTS[2] + dt.timedelta(days=1)
    sources, warehouse, home = three_nights["sources"], three_nights["warehouse"], three_nights["home"]
    advance_into(sources, night, down=("children",), stale=("social",))
    for name, value in {
        "DOISOAT_ALERT_SMTP_HOST": "127.0.0.1",
        "DOISOAT_ALERT_SMTP_PORT": str(controller.port),
        "DOISOAT_ALERT_SMTP_STARTTLS": "0",
        "DOISOAT_ALERT_FROM": "doisoat@example.org",
        "DOISOAT_ALERT_TO": "steward@example.org",
        # social changed nothing tonight: its newest update is from before the previous night, over 24 hours old
        "DOISOAT_SOCIAL_FRESHNESS_HOURS": "24",
    }.items():
        monkeypatch.setenv(name, value)
    assert run_nights_on(sources, warehouse, home, night), "one source down stopped the night"

    with duckdb.connect(str(warehouse), read_only=True) as con:
        extractions = con.execute(
            "select source, status, state_as_of from meta.extractions where as_of = ? and source = 'children'", [night]
        ).fetchall()
        reconciled = dict(
            con.execute(
                "select source, count(*) from marts.fct_reconciliation where as_of = ? group by 1", [night]
            ).fetchall()
        )
        kinds = {row[0] for row in con.execute("select kind from meta.alerts where as_of = ?", [night]).fetchall()}
    # the source down: its last good state (night 3) stands in, marked stale; every sector is reconciled
    assert extractions and all(status == "stale" and state == NIGHTS[2] for _, status, state in extractions)
    assert set(reconciled) == {"vaccination", "social", "civil", "children"}
    assert {"source_unreachable", "source_stale"} <= kinds
    # the steward's mail arrived on the loopback server, naming the source, and no person
    assert inbox.messages, "no e-mail reached the SMTP server"
    recipients, message = inbox.messages[-1]
    assert recipients == ["steward@example.org"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "children" in body or "Trẻ em" in body
    assert_no_personal_data(body, str(message["Subject"]))
    # the report marks the source stale, with the date of its last good extraction
    index = (warehouse.parent / "reports" / night.isoformat() / "index.html").read_text(encoding="utf-8")
    assert 'data-stale-source="children"' in index
    assert NIGHTS[2].strftime("%d/%m/%Y") in index
