"""Dagster's own storage: SQLite under DAGSTER_HOME by default, PostgreSQL by configuration."""

import os

import pytest

from orchestration.instance import MARKER, STORAGE_URL_VARIABLE, instance_yaml, open_instance


def test_sqlite_by_default_postgres_by_configuration():
    assert "storage" not in instance_yaml({})
    text = instance_yaml({STORAGE_URL_VARIABLE: "postgresql://u:secret@db:5432/dagster"})
    assert text.startswith(MARKER)
    assert f"env: {STORAGE_URL_VARIABLE}" in text
    assert "secret" not in text  # the URL stays in the environment, never on disk
    with pytest.raises(ValueError, match=STORAGE_URL_VARIABLE):
        instance_yaml({STORAGE_URL_VARIABLE: "mysql://x"})


def test_an_operators_own_dagster_yaml_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    own = "telemetry:\n  enabled: true\n"
    (tmp_path / "dagster.yaml").write_text(own)
    open_instance().dispose()
    assert (tmp_path / "dagster.yaml").read_text() == own


@pytest.mark.skipif(not os.environ.get("DOISOAT_TEST_PG_URL"), reason="no DOISOAT_TEST_PG_URL")
def test_runs_are_stored_in_postgres(tmp_path, monkeypatch):
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["DOISOAT_TEST_PG_URL"]).set(drivername="postgresql")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv(STORAGE_URL_VARIABLE, url.render_as_string(hide_password=False))
    instance = open_instance()
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    finally:
        instance.dispose()
    assert not list(tmp_path.glob("*.db")) and not (tmp_path / "history").exists()
