"""Each alert rule on a hand-built warehouse: it fires past its threshold and stays quiet below it."""

import datetime as dt

from assets.alerts.config import load_config
from assets.alerts.model import sanitise
from assets.alerts.rules import (
    evaluate,
    freshness_rows,
    indicator_drop_alerts,
    indicator_drops,
    outlier_alerts,
    outliers,
    previous_night,
    quarantine_alerts,
    quarantine_jumps,
    stale_alerts,
    unreachable_alerts,
    unreachable_rows,
)
from tests.alerts.conftest import NIGHT, PLANTED_IDS, assert_no_personal_data

BEFORE = NIGHT - dt.timedelta(days=1)


def _config(**env):
    return load_config({"DOISOAT_ALERT_DIR": "/nonexistent", **env})


def test_unreachable_source_names_source_error_and_last_good_state(warehouse):
    w = warehouse
    w.extraction(NIGHT, "population", "citizen")
    w.extraction(
        NIGHT, "vaccination", "doi_tuong", status="stale", state_as_of=BEFORE,
        error=f"source vaccination: cannot connect (key {PLANTED_IDS[0]})",
    )  # fmt: skip
    w.extraction(NIGHT, "vaccination", "mui_tiem", status="stale", state_as_of=BEFORE, error="same")
    alerts = unreachable_alerts(unreachable_rows(w.con, NIGHT), NIGHT)
    assert [(a.kind, a.source, a.severity) for a in alerts] == [("source_unreachable", "vaccination", "error")]
    text = sanitise(alerts[0], set()).text()
    assert "vaccination" in text and BEFORE.isoformat() in text and "cannot connect" in text
    assert text.index("Nguồn") < text.index("Source")  # Vietnamese first
    assert_no_personal_data(text)  # the ID in the error line is masked


def test_stale_source_older_than_its_window_alerts_fresh_does_not(warehouse):
    w = warehouse
    midnight = dt.datetime.combine(NIGHT, dt.time())
    w.extraction(NIGHT, "population", "citizen", newest_update=midnight - dt.timedelta(hours=5))
    w.extraction(NIGHT, "social", "BENEFICIARY", newest_update=midnight - dt.timedelta(hours=60))
    w.extraction(NIGHT, "civil", "ho_tich", newest_update=midnight - dt.timedelta(hours=60))
    config = _config(DOISOAT_CIVIL_FRESHNESS_HOURS="72")
    rows = freshness_rows(w.con, NIGHT, config.freshness_hours)
    assert {(r.source, r.fresh) for r in rows} == {("population", True), ("social", False), ("civil", True)}
    alerts = stale_alerts(rows, NIGHT)
    assert [(a.kind, a.source) for a in alerts] == [("source_stale", "social")]
    assert "BENEFICIARY" in alerts[0].subject_en and "48" in alerts[0].subject_en
    assert "60 h" in alerts[0].body_en[0]


def test_indicator_drop_past_the_margin_alerts_below_it_does_not(warehouse):
    w = warehouse
    for night in (BEFORE, NIGHT):
        w.night(night)
    w.indicator(BEFORE, "vaccination_clean", 80.0)
    w.indicator(NIGHT, "vaccination_clean", 77.5)  # -2.5 pp
    w.indicator(BEFORE, "civil_digitised", 90.0)
    w.indicator(NIGHT, "civil_digitised", 88.5)  # -1.5 pp: below the margin
    for commune, (before, now) in {"00004": (70.0, 60.0), "00008": (70.0, 66.0), "00010": (70.0, 69.0)}.items():
        w.indicator(BEFORE, "vaccination_clean", before, commune, "commune", 100)
        w.indicator(NIGHT, "vaccination_clean", now, commune, "commune", 100)
    w.indicator(BEFORE, "vaccination_clean", 70.0, "00012", "commune", 5)  # too small to judge
    w.indicator(NIGHT, "vaccination_clean", 20.0, "00012", "commune", 5)
    previous, rows = indicator_drops(w.con, NIGHT, 2.0, 20)
    assert previous == BEFORE
    alerts = indicator_drop_alerts(rows, NIGHT, previous, 2.0, {})
    assert [a.kind for a in alerts] == ["indicator_drop", "indicator_drop_communes"]
    assert "vaccination_clean" in alerts[0].subject_en and "2.50" in alerts[0].subject_en
    communes = alerts[1]
    assert communes.counts == {"communes": 2, "drops": 2}
    assert "vaccination_clean: 2 commune(s); largest fall 10.00 pp (00004)" in communes.body_en
    # a wider margin: nothing
    assert indicator_drops(w.con, NIGHT, 12.0, 20)[1] == []


def test_commune_drop_of_a_few_records_is_not_an_alert(warehouse):
    w = warehouse
    for night in (BEFORE, NIGHT):
        w.night(night)
    # 50 records: -4 pp is 2 records; 400 records: -2.5 pp is 10; 400 records, more of them: -2.5 pp is 11
    w.indicator(BEFORE, "social_song", 90.0, "00004", "commune", 50)
    w.indicator(NIGHT, "social_song", 86.0, "00004", "commune", 50)
    w.indicator(BEFORE, "social_song", 90.0, "00008", "commune", 400)
    w.indicator(NIGHT, "social_song", 87.5, "00008", "commune", 400)
    w.indicator(BEFORE, "social_song", 90.0, "00010", "commune", 400)
    w.indicator(NIGHT, "social_song", 87.5, "00010", "commune", 440)  # new records that are not "song"
    default = _config()
    assert default.min_records_lost == 5
    drop_pp, denominator, lost = default.indicator_drop_pp, default.min_denominator, default.min_records_lost
    rows = indicator_drops(w.con, NIGHT, drop_pp, denominator, lost)[1]
    assert sorted(row[1] for row in rows) == ["00008", "00010"]
    assert sorted(row[1] for row in indicator_drops(w.con, NIGHT, 2.0, 20, 11)[1]) == ["00010"]
    assert len(indicator_drops(w.con, NIGHT, 2.0, 20, 0)[1]) == 3  # 0: every drop past the margin
    # the whole evaluation takes the setting from the environment
    quiet = _config(DOISOAT_ALERT_MIN_RECORDS_LOST="50")
    assert not [a for a in evaluate(w.con, NIGHT, quiet) if a.kind == "indicator_drop_communes"]
    assert [a.counts for a in evaluate(w.con, NIGHT, default) if a.kind == "indicator_drop_communes"] == [
        {"communes": 2, "drops": 2}
    ]


def test_indicator_drop_compares_with_the_last_committed_night(warehouse):
    w = warehouse
    failed = NIGHT - dt.timedelta(days=1)
    good = NIGHT - dt.timedelta(days=2)
    w.night(good)
    w.night(failed, status="failed")
    w.night(NIGHT)
    w.indicator(good, "vaccination_clean", 80.0)
    w.indicator(failed, "vaccination_clean", 90.0)  # a failed night's marts are not whole: not compared
    w.indicator(NIGHT, "vaccination_clean", 79.0)
    assert previous_night(w.con, NIGHT) == good
    assert indicator_drops(w.con, NIGHT, 2.0, 20)[1] == []


def test_quarantine_jump_alerts_past_the_margin_only(warehouse):
    w = warehouse
    for night in (BEFORE, NIGHT):
        w.extraction(night, "social", "BENEFICIARY", rows_total=1000)
        w.extraction(night, "children", "tre_em", rows_total=1000)
    w.quarantine(BEFORE, "social", "BENEFICIARY", 5)  # 0.5 %
    w.quarantine(NIGHT, "social", "BENEFICIARY", 40)  # 4.0 %: +3.5 pp
    w.quarantine(BEFORE, "children", "tre_em", 5)
    w.quarantine(NIGHT, "children", "tre_em", 12)  # 1.2 %: +0.7 pp, below 1.0
    previous, rows = quarantine_jumps(w.con, NIGHT, 1.0)
    assert previous == BEFORE
    alerts = quarantine_alerts(rows, NIGHT, previous, 1.0)
    assert [(a.kind, a.source) for a in alerts] == [("quarantine_jump", "social")]
    assert alerts[0].counts == {"rows_quarantined": 40, "rows_total": 1000}  # rows, not bad values
    assert "0.50 % (2026-11-19) → 4.00 %" in alerts[0].body_en[0]
    assert_no_personal_data(alerts[0].text())
    assert quarantine_jumps(w.con, NIGHT, 4.0)[1] == []


def test_outliers_need_enough_nights_and_use_median_and_mad(warehouse):
    w = warehouse
    config = _config(DOISOAT_ALERT_ANOMALY_MIN_NIGHTS="5", DOISOAT_ALERT_ANOMALY_K="3")
    nights = [NIGHT - dt.timedelta(days=d) for d in range(6, -1, -1)]
    steady = [80.0, 80.5, 79.5, 80.2, 79.8, 80.1]
    counts = [10, 12, 11, 9, 10, 11]
    for night, rate, count in zip(nights[:-1], steady, counts, strict=False):
        w.night(night)
        w.indicator(night, "vaccination_clean", rate)
        w.indicator(night, "civil_digitised", 50.0)
        w.findings(night, "00004", count)
        w.findings(night, "00008", 100)
    # night 6 of 7, within range: nothing
    within = nights[-2]
    held, indicators, communes = outliers(w.con, within, config)
    assert held == 6 and indicators == [] and communes == []
    # fewer than 5 nights: the rule does not speak
    assert outliers(w.con, nights[3], config)[1:] == ([], [])
    # tonight: one indicator far below its range, one commune's findings far above, the steady ones not
    w.night(NIGHT)
    w.indicator(NIGHT, "vaccination_clean", 70.0)
    w.indicator(NIGHT, "civil_digitised", 50.0)
    w.findings(NIGHT, "00004", 60)
    w.findings(NIGHT, "00008", 101)
    held, indicators, communes = outliers(w.con, NIGHT, config)
    assert [row[0] for row in indicators] == ["vaccination_clean"]
    assert [row[0] for row in communes] == ["00004"]
    alerts = outlier_alerts(indicators, communes, NIGHT, held, 3.0)
    assert [a.kind for a in alerts] == ["indicator_anomaly", "findings_anomaly"]
    assert "below" in alerts[0].subject_en and alerts[1].counts == {"communes": 1, "up": 1, "down": 0}
    for alert in alerts:
        assert_no_personal_data(alert.text())
    # nights whose findings were removed (DOISOAT_KEEP_NIGHTS=3) are not nights with no finding: too few nights
    # with findings are left for the communes' rule, the indicators (kept for every night) still speak
    from assets.retention import prune_marts

    assert prune_marts(w.con, NIGHT, keep=3) == {"fct_findings": sum(counts[:4]) + 4 * 100}
    held, indicators, communes = outliers(w.con, NIGHT, config)
    assert [row[0] for row in indicators] == ["vaccination_clean"] and communes == []


def test_evaluate_on_a_quiet_night_finds_nothing_and_missing_tables_are_no_error(warehouse, tmp_path):
    import duckdb

    w = warehouse
    w.night(BEFORE)
    w.night(NIGHT)
    w.indicator(BEFORE, "vaccination_clean", 80.0)
    w.indicator(NIGHT, "vaccination_clean", 80.0)
    w.extraction(NIGHT, "population", "citizen", newest_update=dt.datetime.combine(BEFORE, dt.time(9)))
    assert evaluate(w.con, NIGHT, _config()) == []
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as empty:
        assert evaluate(empty, NIGHT, _config()) == []
