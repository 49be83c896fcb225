"""Where dbt runs (the project, its executable, the target folders) and how a night's parse is made and reused.

Light on purpose (no manifest, no Dagster definitions): the ingestion assets start tonight's parse from here.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dagster_dbt import DbtProject

from assets.resources import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The dbt of this environment, whether or not its bin folder is on PATH (`dagster dev` run from outside).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
RUNS_DIR = DBT_PROJECT_DIR / "target" / "runs"  # one temporary folder per dbt invocation, removed after it
LAST_NIGHT_DIR = DBT_PROJECT_DIR / "target" / "last_night"  # each step's run_results.json and dbt.log

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target=os.environ.get("DBT_TARGET") or None)


def drop_abandoned_targets(max_age_seconds: float = 86_400) -> None:
    """Target folders a killed run left behind (other nights may be using recent ones)."""
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    for folder in RUNS_DIR.iterdir():
        if time.time() - folder.stat().st_mtime > max_age_seconds:
            shutil.rmtree(folder, ignore_errors=True)


PARTIAL_PARSE = "partial_parse.msgpack"


def night_vars(as_of, warehouse: Path) -> str:
    """dbt's --vars of a night: `as_of` for the models, `warehouse` for the profile (dbt renders `var()` given with
    --vars in profiles.yml). The same text wherever dbt runs for the night, so that one parse serves them all."""
    return json.dumps({"as_of": as_of.isoformat(), "warehouse": str(Path(warehouse).resolve())})


# dbt parses the whole project again when its vars change, so the staging step of every night starts with a full
# parse (~3 s, one core). The first ingestion step starts that parse in the background instead, at the lowest
# priority, while the sources are read (ingestion leaves a part of a core idle); the staging step then starts
# from its result. Keyed by the vars: a night's parse serves only that night.
_PREPARSES: dict[str, tuple[subprocess.Popen, Path]] = {}


def start_preparse(as_of, warehouse: Path) -> None:
    """Start `dbt parse` for the night's vars in the background (once per night and process)."""
    dbt_vars = night_vars(as_of, warehouse)
    if dbt_vars in _PREPARSES:
        return
    drop_abandoned_targets()
    target = Path(tempfile.mkdtemp(prefix="preparse-", dir=RUNS_DIR))
    # at the lowest priority: it takes only the CPU the ingestion leaves idle (at normal priority it took a core's
    # share from the ingestion: +2.4 s of its wall on a province night for the 2.6 s it saved the staging step)
    nice = shutil.which("nice")
    args = [*([nice, "-n", "19"] if nice else []), DBT_EXECUTABLE, "parse", "--vars", dbt_vars, "--quiet"]
    args += ["--profile", dbt_project.profile] if dbt_project.profile else []
    args += ["--target", dbt_project.target] if dbt_project.target else []
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        **({"DBT_PROFILES_DIR": str(dbt_project.profiles_dir)} if dbt_project.profiles_dir else {}),
    }
    try:
        process = subprocess.Popen(
            args, cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except OSError:  # no parse ahead: the staging step parses as it always could
        shutil.rmtree(target, ignore_errors=True)
        return
    _PREPARSES[dbt_vars] = (process, target)


def _drop_untaken_preparses() -> None:
    """At exit: the parses no dbt step took (a run of the ingestion alone) are stopped and their folders removed."""
    while _PREPARSES:
        process, folder = _PREPARSES.popitem()[1]
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_drop_untaken_preparses)


def _take_preparse(dbt_vars: str, into: Path, timeout: float = 10) -> bool:
    """Copy the background parse of these vars into a step's target folder; False when there is none, or when it
    is not done within `timeout` seconds (a full parse takes 3–5: past that, the step's own parse is cheaper)."""
    entry = _PREPARSES.pop(dbt_vars, None)
    if entry is None:
        return False
    process, folder = entry
    if process.poll() is None:  # still parsing: nothing else runs now, so back to normal priority where allowed
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, 0)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        code = None
    parsed = folder / PARTIAL_PARSE
    taken = code == 0 and parsed.exists()
    if taken:
        shutil.copy2(parsed, into / PARTIAL_PARSE)
    shutil.rmtree(folder, ignore_errors=True)
    return taken


def reuse_parse(target: Path, dbt_vars: str) -> bool:
    """Give a step's fresh target folder tonight's parse made in the background, else the last step's (dbt
    re-parses anyway if the project or the vars changed). True when tonight's background parse was used."""
    if _take_preparse(dbt_vars, target):
        return True
    kept = LAST_NIGHT_DIR / PARTIAL_PARSE
    if kept.exists():
        shutil.copy2(kept, target / PARTIAL_PARSE)
    return False
