"""Where alerts go: always a file per night; e-mail over SMTP and a webhook when configured.

A channel that fails (server down, refused, misconfigured) is logged with its cause scrubbed and never fails the
caller; the file channel is written first, so that it always has the alert.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from assets.alerts.config import AlertConfig, SmtpConfig
from assets.alerts.model import Alert, make_safe, sanitise
from assets.connections import url_secrets

LOG = logging.getLogger("doisoat.alerts")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def secrets_of(config: AlertConfig) -> set[str]:
    """Every credential that may reach a message: source and webhook URLs' users and passwords, SMTP's."""
    from assets.night import configured_urls

    found = set(config.secrets())
    for url in configured_urls():
        found |= url_secrets(url)
    return found


@dataclass(frozen=True)
class Delivery:
    """What one dispatch did: the channels that took the alerts, and each failing channel's scrubbed cause."""

    sent_via: tuple[str, ...]
    failures: dict[str, str]
    sent_at: dt.datetime


def _night_name(as_of: dt.date | None) -> str:
    return as_of.isoformat() if as_of else "undated"


def write_file(directory: Path, as_of: dt.date | None, alerts: Sequence[Alert], sent_at: dt.datetime) -> Path:
    """Append the alerts to `<dir>/<as_of>.jsonl` (one JSON object per line); return the file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_night_name(as_of)}.jsonl"
    stamp = sent_at.isoformat(timespec="seconds") + "Z"
    with path.open("a", encoding="utf-8") as out:
        for alert in alerts:
            out.write(json.dumps({"sent_at": stamp, **alert.as_json(as_of)}, ensure_ascii=False) + "\n")
    return path


def write_readable(directory: Path, as_of: dt.date | None, alerts: Sequence[Alert], delivery: Delivery) -> Path:
    """Append one readable line per alert to `<dir>/<as_of>.log` (with the channels that took it)."""
    path = directory / f"{_night_name(as_of)}.log"
    stamp = delivery.sent_at.isoformat(timespec="seconds") + "Z"
    via = ",".join(delivery.sent_via)
    with path.open("a", encoding="utf-8") as out:
        for alert in alerts:
            out.write(f"{stamp} [{alert.severity.upper()}] {alert.kind}: {alert.subject} (via {via})\n")
        for channel, cause in delivery.failures.items():
            out.write(f"{stamp} [CHANNEL] {channel} failed / gửi không được: {cause}\n")
    return path


def email_message(smtp: SmtpConfig, as_of: dt.date | None, alerts: Sequence[Alert]) -> EmailMessage:
    """One e-mail for the batch: the worst severity and the count in the subject, each alert VI then EN."""
    worst = min((SEVERITY_ORDER.get(a.severity, 3) for a in alerts), default=2)
    level = {0: "LỖI / ERROR", 1: "CẢNH BÁO / WARNING"}.get(worst, "THÔNG BÁO / INFO")
    night = _night_name(as_of)
    message = EmailMessage()
    message["Subject"] = f"[doisoat {night}] {level}: {len(alerts)} cảnh báo / {len(alerts)} alert(s)"
    message["From"] = smtp.sender
    message["To"] = ", ".join(smtp.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="doisoat")
    parts = [f"Đêm đối soát / Night: {night}", ""]
    for alert in alerts:
        parts += [f"[{alert.severity.upper()}] {alert.kind}", alert.text(), "", "-" * 60, ""]
    message.set_content("\n".join(parts), charset="utf-8")
    return message


def send_email(smtp: SmtpConfig, as_of: dt.date | None, alerts: Sequence[Alert]) -> None:
    """Send the batch through SMTP (STARTTLS when configured); raises on any failure."""
    problem = smtp.problem()
    if problem:
        raise ValueError(problem)
    message = email_message(smtp, as_of, alerts)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        client.ehlo()
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if smtp.user and smtp.password:
            client.login(smtp.user, smtp.password)
        client.send_message(message)


def send_webhook(url: str, as_of: dt.date | None, alerts: Sequence[Alert], timeout: float) -> None:
    """POST the batch as JSON; raises unless the server answers 2xx."""
    body = json.dumps(
        {"as_of": as_of.isoformat() if as_of else None, "alerts": [a.as_json(as_of) for a in alerts]},
        ensure_ascii=False,
    ).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured https/http URL)
        if not 200 <= response.status < 300:
            raise OSError(f"webhook answered HTTP {response.status}")


def _cause(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the webhook: {exc.reason}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def dispatch(
    alerts: Sequence[Alert],
    as_of: dt.date | None,
    config: AlertConfig,
    log: Callable[[str], None] | None = None,
) -> tuple[list[Alert], Delivery]:
    """Send the alerts (made safe first) through every configured channel; the file always.

    Returns the safe alerts and what happened. A failing channel is logged (`log`, scrubbed) and skipped.
    """
    warn = log or LOG.warning
    secrets = secrets_of(config)
    safe = [sanitise(alert, secrets) for alert in alerts]
    sent_at = utcnow()
    if not safe:
        return safe, Delivery((), {}, sent_at)
    via: list[str] = []
    failures: dict[str, str] = {}
    try:
        write_file(config.directory, as_of, safe, sent_at)
        via.append("file")
    except OSError as exc:
        failures["file"] = make_safe(_cause(exc), secrets)
    if config.smtp is not None:
        try:
            send_email(config.smtp, as_of, safe)
            via.append("email")
        except Exception as exc:  # a channel never fails the night
            failures["email"] = make_safe(_cause(exc), secrets)
    if config.webhook_url:
        try:
            send_webhook(config.webhook_url, as_of, safe, config.timeout)
            via.append("webhook")
        except Exception as exc:  # a channel never fails the night
            failures["webhook"] = make_safe(_cause(exc), secrets)
    delivery = Delivery(tuple(via), failures, sent_at)
    for channel, cause in failures.items():
        warn(f"alert channel {channel} failed / kênh cảnh báo {channel} lỗi: {cause}")
    try:
        write_readable(config.directory, as_of, safe, delivery)
    except OSError as exc:
        warn(f"alert file not written / không ghi được tệp cảnh báo: {make_safe(_cause(exc), secrets)}")
    return safe, delivery
