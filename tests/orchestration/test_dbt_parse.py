"""The night's dbt parse is made in the background while the sources are read, and the staging step starts from it."""

import dagster as dg
from dagster._core.instance.ref import InstanceRef


def test_the_staging_step_starts_from_tonights_background_parse(tiny_night):
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tiny_night.parent / "dagster_home"))) as instance:
        run = instance.get_runs(limit=1)[0]
        messages = {
            (record.step_key, record.user_message) for record in instance.all_logs(run.run_id) if record.user_message
        }
    used = "dbt starts from tonight's parse, made in the background while the sources were read"
    assert ("dbt_staging", used) in messages
    assert ("dbt_reconciliation", used) not in messages, "one background parse, taken once"


def test_a_background_parse_not_done_in_time_is_stopped_and_not_used(tmp_path):
    import subprocess

    from assets import dbt_parse

    folder, into = tmp_path / "parse", tmp_path / "step"
    folder.mkdir()
    into.mkdir()
    (folder / dbt_parse.PARTIAL_PARSE).write_bytes(b"not finished")
    stuck = subprocess.Popen(["sleep", "30"])
    dbt_parse._PREPARSES["vars of a stuck night"] = (stuck, folder)
    assert not dbt_parse._take_preparse("vars of a stuck night", into, timeout=0.5)
    assert stuck.poll() is not None, "the stuck parse is stopped"
    assert not (into / dbt_parse.PARTIAL_PARSE).exists() and not folder.exists()
    assert not dbt_parse._take_preparse("vars of a night never parsed", into)
