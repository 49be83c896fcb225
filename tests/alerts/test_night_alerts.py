"""The nightly job's own alerts on the shared tiny night: recorded, written, and naming no person."""

import sqlite3
import unicodedata

import duckdb
import pytest

from assets.alerts.definitions import ALERTS_KEY
from tests.alerts.conftest import alert_files_text, assert_no_personal_data
from tests.support import AS_OF


def _wired() -> bool:
    from orchestration.definitions import defs

    return ALERTS_KEY in defs.resolve_asset_graph().get_all_asset_keys()


@pytest.mark.skipif(not _wired(), reason="the alerts asset is not in the code location yet")
def test_the_night_records_its_alerts_and_none_names_a_person(tiny_night, tiny_sources):
    with duckdb.connect(str(tiny_night), read_only=True) as con:
        recorded = con.execute("select kind, sent_via from meta.alerts where as_of = ?", [AS_OF]).fetchall()
    lines = []
    path = tiny_night.parent / "alerts" / f"{AS_OF}.jsonl"
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(recorded)
    assert all(via.startswith("file") for _, via in recorded)
    text = unicodedata.normalize("NFC", alert_files_text(tiny_night.parent / "alerts")).casefold()
    assert_no_personal_data(text)
    with sqlite3.connect(tiny_sources / "population.sqlite") as source:
        rows = source.execute("select distinct full_name from citizen where full_name is not null").fetchall()
    names = {unicodedata.normalize("NFC", name).casefold() for (name,) in rows}
    assert not [name for name in names if name and len(name) > 6 and name in text], "a citizen's name in an alert"
