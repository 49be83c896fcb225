"""Every user error of the CLI is one line naming what was typed, with a non-zero exit and no traceback."""

import duckdb
import pytest
from click.testing import CliRunner

from assets.night import begin_night
from orchestration import cli


def _invoke(args, **env):
    cli._STATE.update(debug=False, verbose=False)
    return CliRunner().invoke(cli.main, args, env=env or None)


def _one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0, result.output
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--scenario", "tiny", "--as-of", "2026-13-01"],
        ["run", "--as-of", "2026-13-01"],
        ["demo", "--as-of", "2026-13-01"],
        ["report", "--as-of", "2026-13-01"],
    ],
)
def test_bad_as_of_names_the_option(args):
    line = _one_line(_invoke(args))
    assert "--as-of 2026-13-01: not a date (YYYY-MM-DD)" in line
    assert "DOISOAT_AS_OF" not in line


def test_bad_environment_night_names_the_variable():
    line = _one_line(_invoke(["run"], DOISOAT_AS_OF="2026-02-30"))
    assert "DOISOAT_AS_OF 2026-02-30: not a date" in line


def test_report_for_a_night_not_in_the_warehouse(scratch):
    warehouse, as_of = scratch
    line = _one_line(_invoke(["report", "--as-of", "2026-01-02"]))
    assert "night 2026-01-02 is not in the warehouse" in line
    assert str(as_of) in line  # the nights it does hold


def test_report_for_a_night_that_is_not_complete(scratch):
    warehouse, as_of = scratch
    with duckdb.connect(str(warehouse)) as con:
        begin_night(con, as_of, "deadbeef-run")
    line = _one_line(_invoke(["report", "--as-of", as_of.isoformat()]))
    assert f"night {as_of} is not complete (status running" in line


def test_report_without_a_warehouse(tmp_path):
    line = _one_line(_invoke(["report"], DOISOAT_WAREHOUSE=str(tmp_path / "none.duckdb")))
    assert "no warehouse at" in line


def test_simulate_into_a_directory_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere"
    url = f"sqlite:///{missing / 'vaccination.sqlite'}"
    line = _one_line(_invoke(["simulate", "--scenario", "tiny"], DOISOAT_VACCINATION_URL=url))
    assert f"DOISOAT_VACCINATION_URL {url}: directory {missing} does not exist" in line
    assert not missing.exists()


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path):
    not_a_database = tmp_path / "folder.duckdb"
    not_a_database.mkdir()  # a folder where the warehouse file should be
    line = _one_line(_invoke(["report"], DOISOAT_WAREHOUSE=str(not_a_database)))
    assert "--debug for the traceback" in line
    cli._STATE.update(debug=False)
    result = CliRunner().invoke(cli.main, ["report", "--debug"], env={"DOISOAT_WAREHOUSE": str(not_a_database)})
    assert result.exit_code != 0
    assert result.exc_info is not None and result.exc_info[0] is not SystemExit  # raised, with its traceback
    cli._STATE.update(debug=False)


def test_ui_takes_a_port(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(cli.subprocess, "call", lambda args: calls.append(args) or 0)
    result = _invoke(["ui", "--port", "3111"], DAGSTER_HOME=str(tmp_path / "home"))
    assert result.exit_code == 0, result.output
    assert calls and calls[0][-4:] == ["--port", "3111", "--host", "127.0.0.1"]
    assert (tmp_path / "home" / "history" / "runs.db").exists()  # storage created once, before the UI
    line = _one_line(_invoke(["ui", "--port", "0"]))
    assert "--port" in line
