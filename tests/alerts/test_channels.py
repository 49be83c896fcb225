"""Channels: a local SMTP server and a local HTTP server receive the alerts; the file always does."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assets.alerts.channels import dispatch
from assets.alerts.config import AlertConfigError, load_config
from assets.alerts.rules import unreachable_alerts, unreachable_rows
from tests.alerts.conftest import NIGHT, alert_files_text, assert_no_personal_data
from tests.support import free_port

PASSWORD = "s3cr3t-Pässw0rd"


def _unreachable(warehouse, monkeypatch):
    """Social unreachable tonight; its error line carries its URL's user and password (scrubbed in alerts)."""
    monkeypatch.setenv("DOISOAT_SOCIAL_URL", f"postgresql+psycopg://doisoat_ro:{PASSWORD}@db.example/social")
    warehouse.extraction(NIGHT, "population", "citizen")
    warehouse.extraction(
        NIGHT, "social", "BENEFICIARY", status="stale", state_as_of=NIGHT - dt.timedelta(days=2),
        error=f"source social: password authentication failed for user doisoat_ro ({PASSWORD})",
    )  # fmt: skip
    return unreachable_alerts(unreachable_rows(warehouse.con, NIGHT), NIGHT)


def test_unreachable_source_is_emailed_through_a_local_smtp_server(warehouse, alert_env, smtp_server, monkeypatch):
    controller, inbox = smtp_server
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_STARTTLS", "off")
    monkeypatch.setenv("DOISOAT_ALERT_FROM", "doisoat@so-ldtbxh.example")
    monkeypatch.setenv("DOISOAT_ALERT_TO", "steward@example.vn; it@example.vn")
    sent, delivery = dispatch(_unreachable(warehouse, monkeypatch), NIGHT, load_config())
    assert delivery.sent_via == ("file", "email") and delivery.failures == {}
    [(recipients, message)] = inbox.messages
    assert recipients == ["steward@example.vn", "it@example.vn"]
    assert message["Subject"].startswith(f"[doisoat {NIGHT}] LỖI / ERROR: 1 cảnh báo")
    body = message.get_content()
    assert "(social) không truy cập được" in body and "(social) unreachable on night" in body
    assert body.index("không truy cập được") < body.index("unreachable on night")  # Vietnamese first
    assert PASSWORD not in body and "doisoat_ro" not in body and "***" in body
    assert_no_personal_data(body, alert_files_text(alert_env))
    assert sent[0].kind == "source_unreachable"


def test_the_file_channel_always_gets_the_alert_when_smtp_is_down(warehouse, alert_env, monkeypatch):
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_PORT", str(free_port()))  # nothing listens
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_STARTTLS", "0")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_USER", "mailer")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("DOISOAT_ALERT_TO", "steward@example.vn")
    logged = []
    sent, delivery = dispatch(_unreachable(warehouse, monkeypatch), NIGHT, load_config(), logged.append)
    assert delivery.sent_via == ("file",) and set(delivery.failures) == {"email"}
    assert "Connection refused" in delivery.failures["email"] or "refused" in delivery.failures["email"].lower()
    assert logged and "email" in logged[0]
    lines = (alert_env / f"{NIGHT}.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["source_unreachable"]
    readable = (alert_env / f"{NIGHT}.log").read_text(encoding="utf-8")
    assert "[ERROR] source_unreachable" in readable and "(via file)" in readable
    assert "[CHANNEL] email failed" in readable
    everything = alert_files_text(alert_env) + "\n".join(logged)
    assert PASSWORD not in everything
    assert_no_personal_data(everything)


def test_starttls_configuration_errors(warehouse, alert_env, smtp_server, monkeypatch):
    controller, inbox = smtp_server
    monkeypatch.setenv("DOISOAT_ALERT_TO", "steward@example.vn")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_STARTTLS", "maybe")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_HOST", "mail.example.vn")
    with pytest.raises(AlertConfigError, match="DOISOAT_ALERT_SMTP_STARTTLS"):
        load_config()
    # a password over plain SMTP to another machine: refused, never sent
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_STARTTLS", "off")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_USER", "mailer")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_PASSWORD", PASSWORD)
    config = load_config()
    assert config.smtp.port == 25 and "unencrypted" in config.smtp.problem()
    logged = []
    _, delivery = dispatch(_unreachable(warehouse, monkeypatch), NIGHT, config, logged.append)
    assert delivery.sent_via == ("file",) and "unencrypted" in delivery.failures["email"]
    # STARTTLS on (the default, port 587 unless set) against a server that does not offer it: a logged failure
    monkeypatch.delenv("DOISOAT_ALERT_SMTP_STARTTLS")
    monkeypatch.delenv("DOISOAT_ALERT_SMTP_USER")
    monkeypatch.delenv("DOISOAT_ALERT_SMTP_PASSWORD")
    assert load_config().smtp.port == 587 and load_config().smtp.starttls
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DOISOAT_ALERT_SMTP_PORT", str(controller.port))
    _, delivery = dispatch(_unreachable(warehouse, monkeypatch), NIGHT, load_config(), logged.append)
    assert delivery.sent_via == ("file",) and "STARTTLS" in delivery.failures["email"]
    assert inbox.messages == []
    # no recipient
    monkeypatch.delenv("DOISOAT_ALERT_TO")
    assert "DOISOAT_ALERT_TO" in load_config().smtp.problem()
    assert PASSWORD not in alert_files_text(alert_env) + "\n".join(logged)


def test_webhook_receives_json_and_a_failing_webhook_is_logged(warehouse, alert_env, webhook_server, monkeypatch):
    server, handler = webhook_server
    token = "T0KEN-abc123"
    monkeypatch.setenv("DOISOAT_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hooks/{token}")
    alerts = _unreachable(warehouse, monkeypatch)
    sent, delivery = dispatch(alerts, NIGHT, load_config())
    assert delivery.sent_via == ("file", "webhook")
    [(path, content_type, payload)] = handler.received
    assert path == f"/hooks/{token}" and content_type.startswith("application/json")
    assert payload["as_of"] == NIGHT.isoformat()
    assert [a["kind"] for a in payload["alerts"]] == ["source_unreachable"]
    assert payload["alerts"][0]["subject_vi"].startswith("Nguồn")
    handler.status = 500
    logged = []
    _, delivery = dispatch(alerts, NIGHT, load_config(), logged.append)
    assert delivery.sent_via == ("file",) and delivery.failures["webhook"].startswith("HTTP 500")
    everything = alert_files_text(alert_env) + "\n".join(logged)
    assert token not in everything
    assert_no_personal_data(everything, json.dumps(payload, ensure_ascii=False))
    assert len((alert_env / f"{NIGHT}.jsonl").read_text().splitlines()) == 2  # both dispatches, appended
