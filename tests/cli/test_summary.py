"""The end-of-night console summary names the indicators below target, from the warehouse."""

import duckdb

from orchestration.console import NightConsole, step_label
from orchestration.summary import night_summary


def test_summary_names_every_indicator_below_target(scratch, tmp_path):
    warehouse, as_of = scratch
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select indicator_code, meets_target from marts.fct_indicators"
            " where as_of = ? and scope_level = 'province'",
            [as_of],
        ).fetchall()
    below = sorted(code for code, meets in rows if not meets)
    assert below and len(below) < len(rows), "the scratch night must have indicators on both sides of the target"
    lines = night_summary(warehouse, as_of, ["vaccination_clean"], tmp_path / "index.html")
    text = "\n".join(lines)
    assert f"indicators below target: {len(below)} of {len(rows)}" in lines[0]
    listed = [line.split()[0] for line in lines[1 : 1 + len(below)]]
    assert sorted(listed) == below
    met = {code for code, meets in rows if meets}
    assert not any(line.split()[0] in met for line in lines[1 : 1 + len(below)])
    assert "findings per criterion: đúng/correct" in text
    assert "quality checks that warned: 1" in text
    assert lines[-1] == "report: not built"


def test_step_lines_are_readable():
    assert step_label("raw__population__citizen") == "ingest population.citizen"
    assert step_label("dbt_reconciliation") == "dbt: links, rules, marts"
    assert NightConsole(verbose=True).tty is False
