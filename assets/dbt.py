"""The dbt project as Dagster assets: every seed and model an asset keyed [schema, name], dbt tests as checks.

Two selections, so that Python assets can sit between them (the Splink linkage reads staging and feeds the
intermediate layer): `dbt_staging` (seeds and staging views) and `dbt_reconciliation` (intermediate, marts).
"""

import importlib.metadata
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster._core.definitions.metadata import TableMetadataSet
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from assets.connections import first_line
from assets.dbt_parse import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    LAST_NIGHT_DIR,
    PARTIAL_PARSE,
    RUNS_DIR,
    dbt_project,
    drop_abandoned_targets,
    night_vars,
    reuse_parse,
)
from assets.linkage_model.scoring import commit_state
from assets.night import claim_night, mark_published
from assets.partitions import NIGHTS, ONE_NIGHT_PER_RUN, night_of
from assets.resources import PROJECT_ROOT, WarehouseResource
from assets.retention import KEEP_NIGHTS_ENV, keep_nights_setting, prune_marts


def _manifest_is_stale() -> bool:
    """No manifest (a fresh clone), or a model, macro, yml or seed newer than it."""
    if not dbt_project.manifest_path.exists():
        return True
    built = dbt_project.manifest_path.stat().st_mtime
    watched = [DBT_PROJECT_DIR / "dbt_project.yml", *(PROJECT_ROOT / "seeds").glob("*.csv")]
    for folder in ("models", "macros", "tests"):
        watched.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.suffix in (".sql", ".yml"))
    return any(path.stat().st_mtime > built for path in watched)


# Loading the definitions never fails on a fresh clone and never runs on an outdated manifest: parse when
# needed (and always under `dagster dev`, which picks up model edits).
if _manifest_is_stale() or dbt_project.preparer.using_dagster_dev():
    DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE).cli(
        ["parse", "--quiet"], target_path=dbt_project.target_path
    ).wait()


class NightDbtResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without two costs a night it pays for what this project does not use (2.7 s
    measured at the first dbt step of a run): `dbt --version` in a subprocess to learn the executable's version
    (the executable is this environment's dbt-core: its package metadata says it), and a dbt adapter built in
    Dagster's process to fetch row counts and column metadata from the warehouse (`_with_row_counts` counts the
    rows itself, once dbt is done)."""

    @cached_property
    def _cli_version(self):
        from packaging import version

        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


class LayerTranslator(DagsterDbtTranslator):
    """Asset keys [layer, name]: dbt sources are the `raw` ingest assets, models and seeds key by schema."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            name = dbt_resource_props.get("identifier") or dbt_resource_props["name"]
            return dg.AssetKey([dbt_resource_props["schema"], name])
        return dg.AssetKey([dbt_resource_props["config"].get("schema") or "main", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["config"].get("schema") or "main"


TRANSLATOR = LayerTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def _dbt_error_line(invocation) -> str:
    """The first error dbt logged, on one line, with quoted literals elided (they may be data)."""
    messages = [m for m in getattr(invocation, "_error_messages", []) if m and m.strip()]
    detailed = [m for m in messages if "Error in" in m] or messages
    if not detailed:
        return f"dbt exited with code {invocation.process.returncode}"
    lines = [line.strip() for line in detailed[0].splitlines() if line.strip()]
    text = ": ".join(lines[:2])
    return re.sub(r"'[^']*'", "'…'", text)


def _relation_of_table(invocation, event) -> str | None:
    """The relation of a dbt model/seed materialised as a table (views are not counted: that runs their SQL)."""
    if not isinstance(event, dg.Output | dg.AssetMaterialization):
        return None
    unique_id = event.metadata.get("unique_id")
    node = invocation.manifest["nodes"].get(getattr(unique_id, "text", None)) if unique_id else None
    if not node or node["config"].get("materialized") == "view":
        return None
    return node.get("relation_name")


def _with_row_counts(invocation, events: list, warehouse: WarehouseResource, as_of):
    """The events, tables' with `dagster/row_count` (and the night's rows where the table is keyed by `as_of`)."""
    with duckdb.connect(str(warehouse.resolved_path()), read_only=True) as con:
        for event in events:
            relation = (
                _relation_of_table(invocation, event)
                if isinstance(event, dg.Output | dg.AssetMaterialization)
                else None
            )
            if relation is None:
                yield event
                continue
            try:
                columns = {row[0] for row in con.execute(f"describe {relation}").fetchall()}
                keyed = "as_of" in columns
                night_rows = "count(*) filter (where as_of = ?)" if keyed else "null"
                sql = f"select count(*), {night_rows} from {relation}"
                total, tonight = con.execute(sql, [as_of] if keyed else []).fetchone()
            except duckdb.Error:
                yield event
                continue
            metadata = {**TableMetadataSet(row_count=int(total))}
            if tonight is not None:
                metadata["rows_this_night"] = int(tonight)
            yield event.with_metadata({**event.metadata, **metadata})


def _keep_artifacts(target: Path, name: str) -> None:
    """Keep the last night's run_results.json and dbt.log of a step (overwritten each night), drop the rest."""
    kept = LAST_NIGHT_DIR / name
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True, exist_ok=True)
    if (target / PARTIAL_PARSE).exists():  # the next step's (and night's) dbt starts from this parse
        shutil.copy2(target / PARTIAL_PARSE, LAST_NIGHT_DIR / PARTIAL_PARSE)
    for artifact in ("run_results.json", "dbt.log"):
        if (target / artifact).exists():
            shutil.copy2(target / artifact, kept / artifact)
    shutil.rmtree(target, ignore_errors=True)


def _dbt_build(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    as_of = night_of(context)
    # The night (the partition key) and the warehouse reach dbt as vars
    dbt_vars = night_vars(as_of, warehouse.resolved_path())
    # One target folder per invocation (dagster-dbt's default) grows by ~11 MB a step a night: use a temporary
    # one and keep only the last night's run results and log.
    drop_abandoned_targets()
    target = Path(tempfile.mkdtemp(prefix=f"{context.op_def.name}-", dir=RUNS_DIR))
    try:
        # A test runs with the selection that builds all its parents: the intermediate layer's relationship tests to
        # a seed must not run in the staging step, before their models exist.
        # dbt's unit tests check the SQL, not the night's data: CI runs them (tests/quality/test_dbt_unit_tests.py)
        args = [
            "build",
            "--vars",
            dbt_vars,
            "--indirect-selection",
            "buildable",
            "--exclude",
            "resource_type:unit_test",
        ]
        if reuse_parse(target, dbt_vars):
            context.log.info("dbt starts from tonight's parse, made in the background while the sources were read")
        invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
        # Row counts: dagster-dbt's fetch_row_counts() opens the DuckDB file in this process while dbt writes it
        # (it fails, and its connection then blocks the next step's), so tables are counted once dbt is done.
        # The events keep dbt's (topological) order: all are held until dbt ends.
        events = list(invocation.stream())
        if not invocation.is_successful():
            raise dg.Failure(description=_dbt_error_line(invocation), allow_retries=False)
        counting = time.perf_counter()
        yield from _with_row_counts(invocation, events, warehouse, as_of)
        context.log.info(f"row counts of the step's tables in {time.perf_counter() - counting:.2f}s")
    finally:
        _keep_artifacts(target, context.op_def.name)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select="resource_type:seed path:models/staging",
    dagster_dbt_translator=TRANSLATOR,
    name="dbt_staging",
    partitions_def=NIGHTS,
    backfill_policy=ONE_NIGHT_PER_RUN,
)
def dbt_staging(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Reference seeds and the staging views (rename, cast, normalise)."""
    yield from _dbt_build(context, dbt, warehouse)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select="path:models/intermediate path:models/marts",
    dagster_dbt_translator=TRANSLATOR,
    name="dbt_reconciliation",
    partitions_def=NIGHTS,
    backfill_policy=ONE_NIGHT_PER_RUN,
)
def dbt_reconciliation(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Links, rules and the marts of OUTPUTS.md; the night is `published` once they are all written."""
    as_of = night_of(context)
    keep = keep_nights_setting()  # a bad setting stops the night here, before any work
    with warehouse.connect() as con:
        claim_night(con, as_of, context.run.run_id, step="marts")
    yield from _dbt_build(context, dbt, warehouse)
    with warehouse.connect() as con:
        # one transaction: the night is published and this run's linkage state becomes usable, or neither
        con.execute("begin transaction")
        mark_published(con, as_of, context.run.run_id)
        commit_state(con, as_of, context.run.run_id)
        con.execute("commit")
        try:
            deleted = prune_marts(con, as_of, keep)
        except duckdb.Error as exc:  # the night is published and whole: its clean-up waits for the next night
            context.log.warning(f"old nights' record-level rows not removed this time: {first_line(exc)}")
            deleted = {}
    if deleted:
        rows = ", ".join(f"{mart} {count:,}" for mart, count in deleted.items())
        context.log.info(f"record-level rows of nights beyond the newest {keep} removed ({KEEP_NIGHTS_ENV}): {rows}")
