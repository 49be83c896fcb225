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
