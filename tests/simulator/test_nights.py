"""The simulator advances nights: what changes in the sources, each night's truth, outages, determinism."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator import simulate
from simulator.nights import KEYS, UPDATED, advance, night_truth, state_dir
from simulator.truth import expected_finding_changes

from .checker import check

D0 = dt.date(2026, 11, 28)
SOURCES = ("population", "vaccination", "social", "civil", "children")
NIGHTS = [D0 + dt.timedelta(days=i) for i in range(5)]  # D3: social stale, children down; D4: back


def _urls(root: Path) -> dict[str, str]:
    return {s: f"sqlite:///{root}/{s}.sqlite" for s in SOURCES}


def _dump(root: Path, suffix: str = "", only: tuple[str, ...] = SOURCES) -> dict[str, pd.DataFrame]:
    """Every table as a frame of text (the stored bytes as SQLite returns them), keyed where it has a key."""
    out = {}
    for s in only:
        with sqlite3.connect(root / f"{s}.sqlite{suffix}") as con:
            for name, key in KEYS.items():
                src, table = name.split(".")
                if src != s:
                    continue
                df = pd.read_sql(f'select * from "{table}"', con, dtype=object)
                out[name] = df.set_index(key, drop=False) if key else df
    return out


def _state(root: Path) -> tuple:
    sd = state_dir(root / "ground_truth.parquet")
    people = pd.read_parquet(sd / "people.parquet")
    households = pd.read_parquet(sd / "households.parquet")
    frames = {s: pd.read_parquet(sd / f"frame_{s}.parquet") for s in SOURCES[1:]}
    return people, households, frames


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """tiny: the first night, two ordinary nights, a night with an outage, the night after."""
    from simulator.config import load_geo

    root = tmp_path_factory.mktemp("nights")
    urls, tp = _urls(root), root / "ground_truth.parquet"
    simulate("tiny", seed=3, as_of=D0, urls=urls, truth_path=tp)
    people, households, frames = _state(root)
    run = {"root": root, "urls": urls, "dumps": {D0: _dump(root)}, "meta": {}, "checks": {}}
    run["recomputed0"] = night_truth(people, households, frames, load_geo("24"), D0)
    for d in NIGHTS[1:]:
        outage = d == NIGHTS[3]
        run["meta"][d] = advance(urls, tp, stale=("social",) if outage else (), down=("children",) if outage else ())
        if outage:
            run["dumps"][d] = {**_dump(root, only=SOURCES[:4]), **_dump(root, ".down", only=("children",))}
            down_urls = {**urls, "children": f"sqlite:///{root}/children.sqlite.down"}
            run["checks"][d] = check(down_urls, d)
            run["down_files"] = ((root / "children.sqlite").exists(), (root / "children.sqlite.down").exists())
        else:
            run["dumps"][d] = _dump(root)
    run["checks"][NIGHTS[-1]] = check(urls, NIGHTS[-1])
    return run


def _truth(run, d: dt.date) -> pd.DataFrame:
    return pd.read_parquet(run["root"] / "ground_truth" / f"{d.isoformat()}.parquet")


def test_first_night_truth_is_rebuilt_from_the_kept_state(nights):
    buf = io.BytesIO()
    nights["recomputed0"].to_parquet(buf, index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(buf), _truth(nights, D0))


def test_each_night_changes_rows_as_the_night_says(nights):
    totals = {name: {"inserted": 0, "updated": 0, "deleted": 0} for name in KEYS}
    for before, d in zip(NIGHTS, NIGHTS[1:], strict=False):
        old, new = nights["dumps"][before], nights["dumps"][d]
        meta = nights["meta"][d]
        changed = rows = 0
        for name, key in KEYS.items():
            a, b = old[name], new[name]
            got = meta["changes"][name]
            if key:
                assert len(b.index.difference(a.index)) == got["inserted"], (d, name)
                assert len(a.index.difference(b.index)) == got["deleted"], (d, name)
                both = a.index.intersection(b.index)
                differ = ~(a.loc[both].fillna("\0") == b.loc[both].fillna("\0")).all(axis=1)
                assert int(differ.sum()) <= got["updated"], (d, name)
                assert int(differ.sum()) >= 0.9 * got["updated"], (d, name)  # an edit may restore a value
            else:  # no key: rows compared whole
                ka = a.fillna("\0").apply(tuple, axis=1).value_counts()
                kb = b.fillna("\0").apply(tuple, axis=1).value_counts()
                diff = kb.sub(ka, fill_value=0)
                assert int(diff[diff > 0].sum()) == got["inserted"] + got["updated"], (d, name)
                assert int(-diff[diff < 0].sum()) == got["deleted"] + got["updated"], (d, name)
            for k, v in got.items():
                totals[name][k] += v
            changed += sum(got.values())
            rows += len(a)
        if d != NIGHTS[3]:
            assert 0.003 < changed / rows < 0.05, (d, changed, rows)  # about 1 % by default
    for name, t in totals.items():  # every table gets new, changed and deleted rows over the nights
        assert min(t.values()) >= 1, (name, t)


def test_only_changed_rows_are_restamped_yesterday(nights):
    for before, d in zip(NIGHTS, NIGHTS[1:], strict=False):
        old, new = nights["dumps"][before], nights["dumps"][d]
        yesterday = (d - dt.timedelta(days=1)).isoformat()
        for name, (col, _) in UPDATED.items():
            a, b = old[name], new[name]
            both = a.index.intersection(b.index)
            a, b = a.loc[both], b.loc[both]
            same_stamp = (a[col] == b[col]).to_numpy()
            same_row = (a.fillna("\0") == b.fillna("\0")).all(axis=1).to_numpy()
            assert (same_row | ~same_stamp).all(), (d, name)  # an unchanged update column: a byte-identical row
            assert (same_stamp | (b[col].str[:10] == yesterday).to_numpy()).all(), (d, name)
            assert (~same_row | same_stamp).all(), (d, name)  # no re-stamp without a change... or with one
            new_rows = new[name].loc[new[name].index.difference(old[name].index)]
            assert (new_rows[col].str[:10] == yesterday).all(), (d, name)


def test_each_nights_truth_matches_its_databases(nights):
    for d in NIGHTS:
        t = _truth(nights, d)
        db = nights["dumps"][d]
        assert json.loads((nights["root"] / "ground_truth" / f"{d.isoformat()}.json").read_text())["as_of"] == str(d)
        ids = {
            ("population", "citizen"): db["population.citizen"]["personal_id"],
            ("population", "household"): db["population.household"]["household_id"],
            ("vaccination", "record"): db["vaccination.doi_tuong"]["ma_doi_tuong"],
            ("social", "record"): db["social.BENEFICIARY"]["BENEFICIARY_ID"],
            ("civil", "record"): db["civil.ho_tich"]["id"],
            ("children", "record"): db["children.tre_em"]["ma_tre"],
        }
        for (source, kind), keys in ids.items():
            got = t.loc[(t["source"] == source) & (t["record_kind"] == kind), "source_record_id"]
            assert sorted(got.astype(str)) == sorted(keys.astype(str)), (d, source, kind)
    latest = pd.read_parquet(nights["root"] / "ground_truth.parquet")
    pd.testing.assert_frame_equal(latest, _truth(nights, NIGHTS[-1]))


@pytest.mark.parametrize("night", [3, 4])
def test_an_independent_reading_agrees_with_the_truth_after_advances(nights, night):
    d = NIGHTS[night]
    t, c = _truth(nights, d), nights["checks"][d]
    j = t.merge(c, on=["source", "source_record_id"], how="outer", indicator=True)
    assert (j["_merge"] == "both").all()
    bad = j[j["rule_codes_deterministic"].map(lambda x: tuple(sorted(x))) != j["rules"].map(tuple)]
    assert len(bad) == 0, bad[["source", "rule_codes_deterministic", "rules"]].head().to_dict("records")
    assert (j["commune_code_x"].fillna("-") == j["commune_code_y"].fillna("-")).all()


def test_the_nights_change_findings(nights):
    """Births, deaths, moves, corrections and new defects show in the truths: findings appear and go."""
    truths = [(d, _truth(nights, d)) for d in NIGHTS]
    ch = expected_finding_changes(truths)
    assert {"new", "open", "fixed", "gone"} <= set(ch["status"])
    assert (ch["first_seen_as_of"] <= NIGHTS[-1]).all()
    last, first = (set(t.loc[t["record_kind"] == "citizen", "source_record_id"]) for t in (truths[-1][1], truths[0][1]))
    assert last - first and first - last, "citizens are born (or registered) and die (or are removed)"


def test_a_stale_source_does_not_change_and_a_down_one_is_unreachable_for_one_night(nights):
    d2, d3, d4 = NIGHTS[2], NIGHTS[3], NIGHTS[4]
    for name in ("social.BENEFICIARY", "social.PAYMENT", "children.tre_em"):
        pd.testing.assert_frame_equal(nights["dumps"][d2][name], nights["dumps"][d3][name])
    newest = nights["dumps"][d3]["social.BENEFICIARY"]["UPDATED_AT"].max()
    assert newest < d2.isoformat()  # still from before night d2: stale
    assert nights["down_files"] == (False, True)
    assert (nights["root"] / "children.sqlite").exists() and not (nights["root"] / "children.sqlite.down").exists()
    meta = json.loads((nights["root"] / "ground_truth" / f"{d3.isoformat()}.json").read_text())
    assert meta["down"] == ["children"] and meta["stale"] == ["social"]
    assert meta["source_state_as_of"]["children"] == d2.isoformat()
    assert meta["source_state_as_of"]["social"] == d3.isoformat()
    assert nights["meta"][d4]["changes"]["children.tre_em"]["updated"] > 0  # back, and changing again


def test_advance_is_deterministic(nights, tmp_path):
    urls, tp = _urls(tmp_path), tmp_path / "ground_truth.parquet"
    simulate("tiny", seed=3, as_of=D0, urls=urls, truth_path=tp)
    advance(urls, tp)
    again = _dump(tmp_path)
    for name in KEYS:
        pd.testing.assert_frame_equal(again[name], nights["dumps"][NIGHTS[1]][name])
    pd.testing.assert_frame_equal(pd.read_parquet(tp), _truth(nights, NIGHTS[1]))


def _truth_rows(rows: list[tuple[str, str, list[str], str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "source_record_id", "rule_codes", "commune_code"])


def test_expected_finding_changes_on_hand_made_truths():
    n1, n2, n3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
    t1 = _truth_rows(
        [("social", "1", ["ID_MISSING"], "A"), ("social", "2", ["DUPLICATE"], "A"), ("civil", "9", [], "B")]
    )
    t2 = _truth_rows(
        [("social", "1", ["ID_MISSING", "NAME_MISMATCH"], "A"), ("social", "2", [], "A"), ("civil", "9", [], "B")]
    )
    t3 = _truth_rows(
        [("social", "1", ["ID_MISSING"], "C"), ("social", "2", ["DUPLICATE"], "A"), ("civil", "7", ["STALE"], "B")]
    )
    first = expected_finding_changes([(n1, t1)])
    assert set(first["status"]) == {"new"} and first["previous_as_of"].isna().all()
    got = expected_finding_changes([(n3, t3), (n1, t1), (n2, t2)])  # any order
    rows = {(r.source, r.source_record_id, r.rule_code): r for r in got.itertuples()}
    assert len(rows) == 4
    assert rows[("social", "1", "ID_MISSING")].status == "open"
    assert rows[("social", "1", "ID_MISSING")].first_seen_as_of == n1
    assert rows[("social", "1", "ID_MISSING")].commune_code == "C"
    assert rows[("social", "1", "NAME_MISMATCH")].status == "fixed"
    assert rows[("social", "1", "NAME_MISMATCH")].first_seen_as_of == n2
    assert rows[("social", "2", "DUPLICATE")].status == "new"
    assert rows[("social", "2", "DUPLICATE")].first_seen_as_of == n3  # the run broke on n2
    assert rows[("civil", "7", "STALE")].status == "new"
    assert (got["as_of"] == n3).all() and (got["previous_as_of"] == n2).all()
    assert rows[("social", "1", "ID_MISSING")].criterion == "du"
    gone = expected_finding_changes([(n2, t2), (n3, t3[t3["source_record_id"] != "1"])])
    assert set(gone.loc[gone["source_record_id"] == "1", "status"]) == {"gone"}
    assert set(gone.loc[gone["source_record_id"] == "1", "commune_code"]) == {"A"}


def test_cli_advance_without_state_is_one_line(tmp_path, monkeypatch):
    from orchestration.cli import main

    for s in SOURCES:
        monkeypatch.setenv(f"DOISOAT_{s.upper()}_URL", f"sqlite:///{tmp_path}/{s}.sqlite")
    res = CliRunner().invoke(main, ["simulate", "--advance", "--truth", str(tmp_path / "gt.parquet")])
    assert res.exit_code == 2
    assert "no kept simulator state" in res.output and len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(main, ["simulate", "--scenario", "tiny", "--down", "children"])
    assert res.exit_code == 2 and "--advance" in res.output


def test_a_fresh_simulation_forgets_earlier_nights(tmp_path):
    urls, tp = _urls(tmp_path), tmp_path / "ground_truth.parquet"
    (tmp_path / "ground_truth").mkdir()
    (tmp_path / "ground_truth" / "2020-01-01.parquet").write_bytes(b"old")
    (tmp_path / "children.sqlite.down").write_bytes(b"old")
    simulate("tiny_clean", seed=1, as_of=D0, urls=urls, truth_path=tp)
    assert sorted(p.name for p in (tmp_path / "ground_truth").iterdir()) == [f"{D0}.json", f"{D0}.parquet"]
    assert not (tmp_path / "children.sqlite.down").exists()


def test_down_refuses_a_server_source(tmp_path):
    urls, tp = _urls(tmp_path), tmp_path / "ground_truth.parquet"
    sd = state_dir(tp)
    sd.mkdir()
    (sd / "state.json").write_text(json.dumps({"as_of": "2026-01-01", "down": []}))
    with pytest.raises(ValueError, match="only a SQLite source"):
        advance({**urls, "children": "postgresql+psycopg://u@localhost/x"}, tp, down=("children",))
    shutil.rmtree(sd)
