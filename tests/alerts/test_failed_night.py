"""A failed night: the CLI's `notify_failed_night` and the run-failure sensor name step, source and cause, scrubbed."""

import json

import dagster as dg
import duckdb

from assets.alerts import failures_from_events, notify_failed_night
from tests.alerts.conftest import NIGHT, alert_files_text, assert_no_personal_data

PASSWORD = "pa:ss@w/rd 9"
URL = "postgresql+psycopg://doisoat_ro:pa%3Ass%40w%2Frd%209@db.example:5432/social"


@dg.asset(key=dg.AssetKey(["raw", "social__beneficiary"]))
def _broken_source() -> None:
    # what a driver may say: the password as given and percent-encoded, and the URL with it
    raise dg.Failure(
        description=f"source social, table BENEFICIARY: cannot connect to {URL}: "
        f"password authentication failed ({PASSWORD})"
    )


def _failed_run():
    result = dg.materialize([_broken_source], raise_on_error=False, tags={"dagster/partition": NIGHT.isoformat()})
    assert not result.success
    return result


def test_notify_failed_night_names_step_source_and_cause_once_per_run(alert_env, tmp_path, monkeypatch):
    monkeypatch.setenv("DOISOAT_SOCIAL_URL", URL)
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    result = _failed_run()
    failures = failures_from_events(result.get_step_failure_events())
    assert [step for step, _ in failures] == ["raw__social__beneficiary"]
    logged = []
    alert = notify_failed_night(NIGHT, result.run_id, failures, warehouse=warehouse, log=logged.append)
    assert alert is not None and alert.kind == "run_failed" and alert.source == "social"
    assert "raw__social__beneficiary" in alert.subject_en and result.run_id[:8] in alert.subject_en
    cause = "source social, table BENEFICIARY: cannot connect"
    assert alert.body_vi[0].startswith(f"Bước raw__social__beneficiary (nguồn social): {cause}")
    assert alert.body_en[0].startswith(f"Step raw__social__beneficiary (source social): {cause}")
    assert "password authentication failed" in alert.body_en[0]
    # the CLI and the sensor may both see the run: one alert
    assert notify_failed_night(NIGHT, result.run_id, failures, warehouse=warehouse) is None
    lines = (alert_env / f"{NIGHT}.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["run_failed"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select as_of, kind, severity, sent_via from meta.alerts").fetchall()
    assert rows == [(NIGHT, "run_failed", "error", "file")]
    everything = alert_files_text(alert_env) + "\n".join(logged)
    for form in (PASSWORD, "pa%3Ass%40w%2Frd%209", "doisoat_ro"):
        assert form not in everything
    assert_no_personal_data(everything)


def test_the_run_failure_sensor_sends_the_same_alert(alert_env, tmp_path, monkeypatch):
    from orchestration.sensors import nightly_failure_alert, run_night

    monkeypatch.setenv("DOISOAT_SOCIAL_URL", URL)
    monkeypatch.setenv("DOISOAT_WAREHOUSE", str(tmp_path / "absent.duckdb"))  # the warehouse itself is missing
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [_broken_source], instance=instance, raise_on_error=False, tags={"dagster/partition": NIGHT.isoformat()}
        )
        run = instance.get_run_by_id(result.run_id)
        assert run_night(run.tags) == NIGHT
        failure_event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name="nightly_failure_alert", dagster_event=failure_event, dagster_instance=instance, dagster_run=run
        ).for_run_failure()
        nightly_failure_alert(context)
    [line] = (alert_env / f"{NIGHT}.jsonl").read_text(encoding="utf-8").splitlines()
    sent = json.loads(line)
    assert sent["kind"] == "run_failed" and sent["source"] == "social"
    assert "raw__social__beneficiary" in sent["subject_en"] and "password authentication failed" in sent["body_en"][0]
    assert PASSWORD not in line and "pa%3Ass%40w%2Frd%209" not in line


def test_the_cli_helper_with_a_bad_alert_setting_still_writes_the_file(alert_env, tmp_path, monkeypatch):
    from assets.alerts import notify_failed_result

    monkeypatch.setenv("DOISOAT_SOCIAL_URL", URL)
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_HOST", "mail.example.vn")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_PORT", "twenty-five")
    result = _failed_run()
    alert = notify_failed_result(NIGHT, result, warehouse=tmp_path / "absent.duckdb")
    assert alert is not None and alert.source == "social"
    sent = [json.loads(line) for line in (alert_env / f"{NIGHT}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [a["kind"] for a in sent] == ["run_failed", "alert_config_invalid"]
    assert "DOISOAT_ALERT_SMTP_PORT" in sent[1]["body_en"][0]
    assert PASSWORD not in alert_files_text(alert_env)
