"""One alert: kind, severity, a Vietnamese and an English subject and body; and how its text is made safe."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from assets.connections import scrub

SEVERITIES = ("error", "warning", "info")
# A run of 9 or more digits may be a personal ID (12-digit CCCD, 9-digit CMND): never in an alert.
_ID_RUN = re.compile(r"(?<!\d)\d{9,}(?!\d)")
ID_MASK = "•••"


@dataclass(frozen=True)
class Alert:
    """What one rule found for one night (aggregates only: sources, tables, indicators, communes, counts)."""

    kind: str
    severity: str
    subject_vi: str
    subject_en: str
    body_vi: tuple[str, ...] = ()
    body_en: tuple[str, ...] = ()
    source: str | None = None
    counts: dict[str, int | float] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return f"{self.subject_vi} / {self.subject_en}"

    def text(self) -> str:
        """Vietnamese first, then English."""
        lines = [self.subject_vi, *self.body_vi, "", self.subject_en, *self.body_en]
        return "\n".join(lines).strip()

    def as_json(self, as_of: dt.date | None) -> dict:
        return {
            "as_of": as_of.isoformat() if as_of else None,
            "kind": self.kind,
            "severity": self.severity,
            "source": self.source,
            "subject_vi": self.subject_vi,
            "subject_en": self.subject_en,
            "body_vi": list(self.body_vi),
            "body_en": list(self.body_en),
            "counts": self.counts,
        }


def redact_ids(text: str) -> str:
    """The text with every run of 9 or more digits masked (a personal ID never reaches an alert)."""
    return _ID_RUN.sub(ID_MASK, text)


def make_safe(text: str, secrets: set[str]) -> str:
    """Credentials scrubbed (every form, whole tokens) and digit runs that may be IDs masked."""
    return redact_ids(scrub(text, secrets)) if secrets else redact_ids(text)


def sanitise(alert: Alert, secrets: set[str]) -> Alert:
    """The alert with every text field made safe."""
    return replace(
        alert,
        subject_vi=make_safe(alert.subject_vi, secrets),
        subject_en=make_safe(alert.subject_en, secrets),
        body_vi=tuple(make_safe(line, secrets) for line in alert.body_vi),
        body_en=tuple(make_safe(line, secrets) for line in alert.body_en),
    )


def fmt_int(value: int | float | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def fmt_pp(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def config_alert(problem: str) -> Alert:
    """The alert configuration is unusable: only the file channel and default thresholds were used."""
    return Alert(
        kind="alert_config_invalid",
        severity="error",
        subject_vi="Cấu hình cảnh báo không hợp lệ: chỉ ghi tệp, dùng ngưỡng mặc định",
        subject_en="Alert configuration invalid: file channel only, default thresholds",
        body_vi=(problem,),
        body_en=(problem,),
    )
