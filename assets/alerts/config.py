"""Alert configuration, read once from environment variables (see the package docstring for the list)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from expectations.contracts import CATALOGUE

DEFAULT_FRESHNESS_HOURS = 48.0
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class AlertConfigError(ValueError):
    """A configuration variable has a value that cannot be used; the message names the variable."""


def _number(environ: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise AlertConfigError(f"{name}={raw!r}: not a number") from None
    if value < minimum:
        raise AlertConfigError(f"{name}={raw!r}: must be at least {minimum:g}")
    return value


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise AlertConfigError(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip())


def is_loopback(host: str) -> bool:
    """Whether an SMTP host is this machine (a password may then travel without TLS)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool
    user: str | None
    password: str | None
    sender: str
    recipients: tuple[str, ...]
    timeout: float

    def problem(self) -> str | None:
        """Why this SMTP configuration cannot be used as it stands (None when it can)."""
        if not self.recipients:
            return "DOISOAT_ALERT_TO is empty: no recipient for the e-mail"
        if bool(self.user) != bool(self.password):
            return "DOISOAT_ALERT_SMTP_USER and DOISOAT_ALERT_SMTP_PASSWORD must be set together"
        if self.password and not self.starttls and not is_loopback(self.host):
            return (
                "DOISOAT_ALERT_SMTP_STARTTLS is off: refusing to send the SMTP password unencrypted to a host "
                "that is not this machine"
            )
        return None


@dataclass(frozen=True)
class AlertConfig:
    directory: Path
    smtp: SmtpConfig | None
    webhook_url: str | None
    timeout: float
    indicator_drop_pp: float = 2.0
    quarantine_jump_pp: float = 1.0
    min_denominator: int = 20
    min_records_lost: int = 5
    anomaly_min_nights: int = 5
    anomaly_nights: int = 14
    anomaly_k: float = 3.5
    anomaly_min_count: int = 5
    anomaly_min_change_pct: float = 10.0
    freshness_hours: Mapping[str, float] = field(default_factory=dict)

    def secrets(self) -> set[str]:
        """Credentials of the alert channels themselves (scrubbed from every message and log line)."""
        found = set()
        if self.smtp is not None:
            found |= {s for s in (self.smtp.user, self.smtp.password) if s}
        if self.webhook_url:
            from urllib.parse import urlsplit

            parts = urlsplit(self.webhook_url)
            found |= {s for s in (parts.username, parts.password, parts.path.strip("/"), parts.query) if s}
            # a token in the path (chat webhooks carry their secret there) is hidden on its own too
            found |= {segment for segment in parts.path.split("/") if len(segment) >= 8}
        return found


def freshness_variable(source: str) -> str:
    return f"DOISOAT_{source.upper()}_FRESHNESS_HOURS"


def load_config(environ: Mapping[str, str] | None = None, warehouse: Path | None = None) -> AlertConfig:
    """The alert configuration from the environment; AlertConfigError names a bad variable."""
    env = os.environ if environ is None else environ
    if warehouse is None:
        warehouse = Path(env.get("DOISOAT_WAREHOUSE") or DEFAULT_WAREHOUSE)
    directory = Path(env.get("DOISOAT_ALERT_DIR") or Path(warehouse).parent / "alerts")
    timeout = _number(env, "DOISOAT_ALERT_TIMEOUT", 10.0, minimum=0.1)
    smtp = None
    host = (env.get("DOISOAT_ALERT_SMTP_HOST") or "").strip()
    if host:
        starttls = _flag(env, "DOISOAT_ALERT_SMTP_STARTTLS", True)
        port = int(_number(env, "DOISOAT_ALERT_SMTP_PORT", 587 if starttls else 25, minimum=1))
        smtp = SmtpConfig(
            host=host,
            port=port,
            starttls=starttls,
            user=env.get("DOISOAT_ALERT_SMTP_USER") or None,
            password=env.get("DOISOAT_ALERT_SMTP_PASSWORD") or None,
            sender=env.get("DOISOAT_ALERT_FROM") or "doisoat@localhost",
            recipients=_list(env.get("DOISOAT_ALERT_TO")),
            timeout=timeout,
        )
    return AlertConfig(
        directory=directory,
        smtp=smtp,
        webhook_url=(env.get("DOISOAT_ALERT_WEBHOOK_URL") or "").strip() or None,
        timeout=timeout,
        indicator_drop_pp=_number(env, "DOISOAT_ALERT_INDICATOR_DROP_PP", 2.0),
        quarantine_jump_pp=_number(env, "DOISOAT_ALERT_QUARANTINE_JUMP_PP", 1.0),
        min_denominator=int(_number(env, "DOISOAT_ALERT_MIN_DENOMINATOR", 20)),
        min_records_lost=int(_number(env, "DOISOAT_ALERT_MIN_RECORDS_LOST", 5)),
        anomaly_min_nights=int(_number(env, "DOISOAT_ALERT_ANOMALY_MIN_NIGHTS", 5, minimum=3)),
        anomaly_nights=int(_number(env, "DOISOAT_ALERT_ANOMALY_NIGHTS", 14, minimum=2)),
        anomaly_k=_number(env, "DOISOAT_ALERT_ANOMALY_K", 3.5, minimum=0.1),
        anomaly_min_count=int(_number(env, "DOISOAT_ALERT_ANOMALY_MIN_COUNT", 5)),
        anomaly_min_change_pct=_number(env, "DOISOAT_ALERT_ANOMALY_MIN_CHANGE_PCT", 10.0),
        freshness_hours={
            source: _number(env, freshness_variable(source), DEFAULT_FRESHNESS_HOURS, minimum=0.0)
            for source in CATALOGUE
        },
    )


def load_config_or_default(
    environ: Mapping[str, str] | None = None, warehouse: Path | None = None
) -> tuple[AlertConfig, str | None]:
    """The configuration, or when a variable is bad: the file channel alone with default thresholds, and why."""
    try:
        return load_config(environ, warehouse), None
    except AlertConfigError as exc:
        env = os.environ if environ is None else environ
        if warehouse is None:
            warehouse = Path(env.get("DOISOAT_WAREHOUSE") or DEFAULT_WAREHOUSE)
        directory = Path(env.get("DOISOAT_ALERT_DIR") or Path(warehouse).parent / "alerts")
        defaults = {source: DEFAULT_FRESHNESS_HOURS for source in CATALOGUE}
        return AlertConfig(
            directory=directory, smtp=None, webhook_url=None, timeout=10.0, freshness_hours=defaults
        ), str(exc)
