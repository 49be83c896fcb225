"""Alerts: who is told, through real channels, when a night fails, a source is down or stale, or a figure moves.

Channels (environment variables; the file channel is always on):

* file — `DOISOAT_ALERT_DIR` (default `alerts/` beside the warehouse, i.e. `data/alerts/`): per night
  `<as_of>.jsonl` (one JSON object per alert) and `<as_of>.log` (one readable line per alert, with the channels
  that took it and any channel that failed).
* e-mail — `DOISOAT_ALERT_SMTP_HOST` (unset: no e-mail), `DOISOAT_ALERT_SMTP_PORT` (587 with STARTTLS, else 25),
  `DOISOAT_ALERT_SMTP_STARTTLS` (default on; a password is never sent unencrypted to a host that is not
  loopback), `DOISOAT_ALERT_SMTP_USER`, `DOISOAT_ALERT_SMTP_PASSWORD`, `DOISOAT_ALERT_FROM`
  (default `doisoat@localhost`), `DOISOAT_ALERT_TO` (comma-separated). One e-mail per batch of alerts.
* webhook — `DOISOAT_ALERT_WEBHOOK_URL`: one JSON POST per batch (`{"as_of", "alerts": [...]}`).
* `DOISOAT_ALERT_TIMEOUT` — seconds for SMTP and the webhook (default 10).

Rules (thresholds):

* `DOISOAT_<SOURCE>_FRESHNESS_HOURS` — a source is stale when its newest update is older than this at the
  night (default 48).
* `DOISOAT_ALERT_INDICATOR_DROP_PP` — an indicator falling by more than this many percentage points since the
  previous night (default 2.0); communes with a denominator below `DOISOAT_ALERT_MIN_DENOMINATOR` (default 20)
  are left out, and so is a commune's drop that stands for fewer than `DOISOAT_ALERT_MIN_RECORDS_LOST` records
  (default 5: tonight's denominator at the previous rate, less tonight's numerator).
* `DOISOAT_ALERT_QUARANTINE_JUMP_PP` — a table's quarantine share rising by more than this (default 1.0 pp).
* `DOISOAT_ALERT_ANOMALY_MIN_NIGHTS` (5), `DOISOAT_ALERT_ANOMALY_NIGHTS` (14), `DOISOAT_ALERT_ANOMALY_K` (3.5),
  `DOISOAT_ALERT_ANOMALY_MIN_COUNT` (5), `DOISOAT_ALERT_ANOMALY_MIN_CHANGE_PCT` (10) — a province indicator or a
  commune's finding count outside median ± k·1.4826·MAD of its last N nights; an indicator must also be at least
  the drop margin away, a count at least the minimum count and that share of its median.

Every message is Vietnamese first, with English; credentials of every configured URL and of the channels are
scrubbed, and any run of 9 or more digits is masked: no personal ID, name or secret reaches an alert.
"""

from assets.alerts.channels import dispatch
from assets.alerts.config import AlertConfig, AlertConfigError, load_config
from assets.alerts.definitions import alert_assets, alert_checks, alerts
from assets.alerts.model import Alert
from assets.alerts.record import failures_from_events, notify_failed_night, notify_failed_result
from assets.alerts.rules import evaluate

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertConfigError",
    "alert_assets",
    "alert_checks",
    "alerts",
    "dispatch",
    "evaluate",
    "failures_from_events",
    "load_config",
    "notify_failed_night",
    "notify_failed_result",
]
