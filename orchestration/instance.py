"""Dagster's storage under DAGSTER_HOME, created once and safely (two runs at once must not both migrate it).

The embedded default is SQLite files under DAGSTER_HOME. With `DOISOAT_DAGSTER_STORAGE_URL` set to a PostgreSQL
URL (`postgresql://user:password@host:5432/dagster`), run, event-log and schedule storage live in PostgreSQL
(dagster-postgres): the URL is read from the environment when Dagster starts, never written to disk.
A `dagster.yaml` the operator wrote stays untouched; the one doisoat writes is regenerated from configuration.
"""

import os
from pathlib import Path

from filelock import FileLock

INIT_LOCK = ".doisoat-init.lock"
INIT_WAIT_SECONDS = 300
STORAGE_URL_VARIABLE = "DOISOAT_DAGSTER_STORAGE_URL"
MARKER = "# written by doisoat from its configuration; delete this line to keep your own edits\n"


def dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to data/dagster_home so that `doisoat run` and `doisoat ui` share run history."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / "data" / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def instance_yaml(environ: dict[str, str] | None = None) -> str:
    """The dagster.yaml doisoat writes: no telemetry, and PostgreSQL storage when configured."""
    environ = os.environ if environ is None else environ
    text = MARKER + "telemetry:\n  enabled: false\n"
    url = (environ.get(STORAGE_URL_VARIABLE) or "").strip()
    if url:
        if not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
            raise ValueError(f"{STORAGE_URL_VARIABLE}: not a PostgreSQL URL (postgresql://user:password@host/db)")
        text += f"storage:\n  postgres:\n    postgres_url:\n      env: {STORAGE_URL_VARIABLE}\n"
    return text


def open_instance():
    """The DagsterInstance of DAGSTER_HOME; its storage is created (or opened) under a lock in that folder.

    Dagster's SQLite storage creates its tables and stamps its alembic revision when it finds none; two processes
    doing so at once leave two `alembic_version` rows ("more than one head present" for ever after).
    """
    import dagster as dg

    home = dagster_home()
    with FileLock(str(home / INIT_LOCK), timeout=INIT_WAIT_SECONDS, thread_local=False):
        config = home / "dagster.yaml"
        wanted = instance_yaml()
        if (
            not config.exists()
            or config.read_text().startswith(MARKER)
            or config.read_text()
            == (
                "telemetry:\n  enabled: false\n"  # written by earlier versions
            )
        ):
            if not config.exists() or config.read_text() != wanted:
                config.write_text(wanted)
        return dg.DagsterInstance.get()  # the storage is created in the constructor, inside the lock
