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


def test_summary_counts_tonights_quarantine_without_values(scratch, tmp_path):
    warehouse, as_of = scratch
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists raw")
        con.execute(
            "create table if not exists raw._quarantine (source varchar, table_name varchar, record_key varchar,"
            " column_name varchar, reason varchar, row_json varchar, _as_of date, _extracted_at timestamp,"
            " source_record_id varchar, disposition varchar)"
        )
        con.execute("delete from raw._quarantine")
        bad = [  # (key, column, disposition, night): key 7 has two bad values, one row
            ("7", "social", "BENEFICIARY", "dob", "loaded", as_of),
            ("7", "social", "BENEFICIARY", "gender", "loaded", as_of),
            ("8", "social", "BENEFICIARY", "dob", "loaded", as_of),
            ("X1", "vaccination", "doi_tuong", None, "rejected", as_of),
            ("X2", "vaccination", "doi_tuong", "ho_ten", "loaded", as_of.replace(day=1)),  # another night
        ]
        con.executemany(
            "insert into raw._quarantine (source_record_id, source, table_name, column_name, disposition, _as_of,"
            ' row_json) values (?, ?, ?, ?, ?, ?, \'{"FULL_NAME": "Nguyễn Văn Một"}\')',
            bad,
        )
    lines = night_summary(warehouse, as_of, None, tmp_path / "index.html")
    text = "\n".join(lines)
    assert "rows quarantined tonight: 3 (2 loaded" in text
    assert "1 rejected whole" in text
    dob = next(line for line in lines if "social.BENEFICIARY.dob" in line)
    assert dob.split()[-2:] == ["loaded", "2"]
    assert next(line for line in lines if "social.BENEFICIARY.gender" in line).split()[-2:] == ["loaded", "1"]
    assert any("vaccination.doi_tuong.(row)" in line and line.split()[-1] == "1" for line in lines)
    assert "ho_ten" not in text and "Nguyễn" not in text


def test_summary_lists_tonights_alerts_errors_first(scratch, tmp_path, monkeypatch):
    warehouse, as_of = scratch
    monkeypatch.setenv("DOISOAT_ALERT_DIR", str(tmp_path / "alerts"))
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists meta")
        con.execute(
            "create or replace table meta.alerts (as_of date, kind varchar, severity varchar, subject varchar,"
            " sent_via varchar, sent_at timestamp)"
        )
        con.executemany(
            "insert into meta.alerts (as_of, kind, severity, subject) values (?, ?, ?, ?)",
            [
                (as_of, "indicator_drop", "warning", "chỉ tiêu giảm / indicator down"),
                (as_of, "source_unreachable", "error", "Nguồn không truy cập được / Source children unreachable"),
                (as_of.replace(day=1), "gate_failed", "error", "khác / another night"),
            ],
        )
    lines = night_summary(warehouse, as_of, None, None)
    start = next(i for i, line in enumerate(lines) if line.startswith("alerts:"))
    assert lines[start] == f"alerts: 2 (1 error); {tmp_path / 'alerts' / f'{as_of}.log'}"
    assert lines[start + 1].split() == ["error", "source_unreachable:", "Source", "children", "unreachable"]
    assert lines[start + 2].split()[:2] == ["warning", "indicator_drop:"]
    assert "another night" not in "\n".join(lines)
