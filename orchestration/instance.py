"""Dagster's storage under DAGSTER_HOME, created once and safely (two runs at once must not both migrate it)."""

import os
from pathlib import Path

from filelock import FileLock

INIT_LOCK = ".doisoat-init.lock"
INIT_WAIT_SECONDS = 300


def dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to data/dagster_home so that `doisoat run` and `doisoat ui` share run history."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / "data" / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def open_instance():
    """The DagsterInstance of DAGSTER_HOME; its storage is created (or opened) under a lock in that folder.

    Dagster's SQLite storage creates its tables and stamps its alembic revision when it finds none; two processes
    doing so at once leave two `alembic_version` rows ("more than one head present" for ever after).
    """
    import dagster as dg

    home = dagster_home()
    with FileLock(str(home / INIT_LOCK), timeout=INIT_WAIT_SECONDS, thread_local=False):
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        return dg.DagsterInstance.get()  # the storage is created in the constructor, inside the lock
