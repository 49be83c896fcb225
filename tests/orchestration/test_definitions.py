"""The code location loads, with the assets grouped by layer and the nightly job, schedule and sensor."""

import dagster as dg

from orchestration.definitions import defs


def test_definitions_load_with_layers():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert "raw/population__citizen" in keys
    assert "raw/social__beneficiary" in keys
    assert "marts/fct_findings" in keys
    assert "staging/stg_children__tre_em" in keys
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert {"raw", "staging", "intermediate", "marts", "reference"} <= groups
    # lineage: each mart depends, through staging, Splink and the intermediate layer, on the raw ingest assets
    upstream, frontier = set(), {dg.AssetKey(["marts", "fct_reconciliation"])}
    while frontier:
        key = frontier.pop()
        for parent in graph.get(key).parent_keys:
            if parent not in upstream:
                upstream.add(parent)
                frontier.add(parent)
    for source_table in ("raw/vaccination__doi_tuong", "raw/population__citizen", "intermediate/linkage_probabilistic"):
        assert dg.AssetKey.from_user_string(source_table) in upstream


def test_nightly_job_schedule_and_sensor():
    assert defs.resolve_job_def("nightly") is not None
    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    assert defs.resolve_sensor_def("nightly_failure_alert") is not None


def test_the_night_is_a_daily_partition_in_vietnam():
    import datetime as dt
    from zoneinfo import ZoneInfo

    from assets.partitions import NIGHTS

    graph = defs.resolve_asset_graph()
    # every asset of the night is partitioned by NIGHTS (the seeds too: dbt builds them within the night's run)
    unpartitioned = [
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable and graph.get(key).partitions_def != NIGHTS
    ]
    assert unpartitioned == []
    assert NIGHTS.timezone == "Asia/Ho_Chi_Minh"
    assert NIGHTS.get_first_partition_key() == "2025-07-01"
    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert schedule.cron_schedule == "30 0 * * *"
    tick = dt.datetime(2026, 11, 25, 0, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    context = dg.build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def())
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-25"  # 00:30 on the 25th launches the night of the 25th
    # at 00:30 in Hà Nội it is still the previous day in UTC: the partition follows Vietnam, not UTC
    utc_tick = dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC)
    context = dg.build_schedule_context(scheduled_execution_time=utc_tick, repository_def=defs.get_repository_def())
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-25"
    # the night's partition exists when the schedule fires (end_offset=1)
    keys = NIGHTS.get_partition_keys(current_time=tick)
    assert keys[-1] == "2026-11-25" and keys[0] == "2025-07-01"
