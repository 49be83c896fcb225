"""`doisoat`: the command line for people. `run` executes the same Dagster job the schedule runs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import click

from orchestration.resources import SOURCE_URL_VARIABLES, parse_as_of


def _dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to data/dagster_home so that `doisoat run` and `doisoat ui` share run history."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / "data" / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@click.group()
def main() -> None:
    """doisoat — đối soát dữ liệu chuyên ngành với CSDL quốc gia về dân cư (Đề án 06)."""


@main.command()
@click.option("--scenario", required=True, type=click.Choice(["tiny", "tiny_clean", "demo", "province"]))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD; default DOISOAT_AS_OF or today (Asia/Ho_Chi_Minh).")
@click.option("--truth", default=None, help="Ground-truth file (default data/sources/ground_truth.parquet).")
def simulate(scenario: str, seed: int, as_of: str | None, truth: str | None) -> None:
    """Write the five simulated source databases to the URLs of SOURCES.md's environment variables."""
    from simulator import simulate as run_simulation  # the pipeline never imports the simulator; this verb does

    night = parse_as_of(as_of or os.environ.get("DOISOAT_AS_OF"))
    started = time.perf_counter()
    counts = run_simulation(scenario, seed=seed, as_of=night, truth_path=truth, progress=True)
    click.echo(f"simulated '{scenario}' (seed {seed}, as of {night}) in {time.perf_counter() - started:.1f}s:")
    for table, rows in counts.items():
        click.echo(f"  {table:<32} {rows:>10,}")


def run_night(as_of: str | None = None, selection=None) -> bool:
    """Execute the nightly job in this process, recorded in DAGSTER_HOME; True when the night succeeded.

    `selection` (a `dg.AssetSelection`) limits the run to part of the night; None runs all of it.
    """
    _dagster_home()
    night = parse_as_of(as_of or os.environ.get("DOISOAT_AS_OF")).isoformat()
    os.environ["DOISOAT_AS_OF"] = night  # the dbt subprocess and every resource see the same night

    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly")
    keys = None if selection is None else list(selection.resolve(defs.resolve_asset_graph()))
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            asset_selection=keys,
            instance=instance,
            run_config={"resources": {"night": {"config": {"as_of": night}}}},
            tags={"as_of": night},
            raise_on_error=False,
        )
    failures = [event for event in result.all_events if event.is_step_failure]
    for event in failures:
        error = event.step_failure_data.error
        click.echo(f"FAILED {event.step_key}: {error.message.strip() if error else ''}", err=True)
    click.echo(f"night {night}: {'succeeded' if result.success else 'FAILED'} (run {result.run_id})")
    return result.success


@main.command()
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD; default DOISOAT_AS_OF or today (Asia/Ho_Chi_Minh).")
def run(as_of: str | None) -> None:
    """Run the whole night for the configured sources into DOISOAT_WAREHOUSE (exit 1 if it failed)."""
    sys.exit(0 if run_night(as_of) else 1)


@main.command()
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD; default DOISOAT_AS_OF or today.")
@click.pass_context
def demo(ctx: click.Context, seed: int, as_of: str | None) -> None:
    """Simulate the demo province on the embedded default, run the night, and say where the results are."""
    for variable, _ in SOURCE_URL_VARIABLES.values():
        os.environ.pop(variable, None)  # the embedded default, whatever the shell says
    ctx.invoke(simulate, scenario="demo", seed=seed, as_of=as_of, truth=None)
    ok = run_night(as_of)
    warehouse = _warehouse_path()
    click.echo(f"warehouse: {warehouse}")
    report = warehouse.parent / "reports" / os.environ["DOISOAT_AS_OF"] / "index.html"
    click.echo(f"report:    {report}" if report.exists() else "report:    not built (the night failed)")
    sys.exit(0 if ok else 1)


def _warehouse_path() -> Path:
    from orchestration.resources import WarehouseResource

    return WarehouseResource().resolved_path()


@main.command()
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD; default DOISOAT_AS_OF or today.")
@click.option("--out", default=None, help="Reports folder (default: beside the warehouse, data/reports).")
@click.option("--unmasked", is_flag=True, help="Full names and IDs — only for a reader entitled to them.")
def report(as_of: str | None, out: str | None, unmasked: bool) -> None:
    """(Re)build the stewards' report of a night already reconciled in the warehouse."""
    from assets.report import build_report

    night = parse_as_of(as_of or os.environ.get("DOISOAT_AS_OF"))
    warehouse = _warehouse_path()
    index = build_report(warehouse, night, out or warehouse.parent / "reports", masked=not unmasked)
    click.echo(f"report: {index}")


@main.command("train-linkage")
@click.option(
    "--out", default=None, help="Model file to write (default: the committed assets/linkage_model/model.json)."
)
@click.option("--seed", default=42, show_default=True, type=int)
def train_linkage(out: str | None, seed: int) -> None:
    """Retrain the Splink model by EM on the warehouse's staging layer (run a night first) and save it."""
    from assets.linkage_model.model import train_model

    path = train_model(_warehouse_path(), out_path=out, seed=seed)
    click.echo(f"model saved: {path}")


@main.group()
def review() -> None:
    """Stewards' decisions on the review queue (marts.fct_review_queue); the next night applies them."""


def _apply_review(action) -> None:
    import duckdb

    from assets.linkage_model.review import ReviewError

    try:
        with duckdb.connect(str(_warehouse_path())) as con:
            counts = action(con)
    except ReviewError as refused:
        click.echo("refused, nothing recorded / từ chối, không ghi nhận gì:", err=True)
        for error in refused.errors:
            click.echo(f"  {error}", err=True)
        sys.exit(1)
    kept = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    click.echo(f"recorded ({kept}); applied on the next night / đã ghi nhận, áp dụng từ đêm tới")


@review.command("decide")
@click.option("--source", required=True, type=click.Choice(["vaccination", "social", "civil", "children"]))
@click.option("--record", "record_id", required=True, help="The sector record's key (source_record_id).")
@click.option("--person", "personal_id", required=True, help="The master personal ID of the proposed pair.")
@click.option("--decision", required=True, type=click.Choice(["accept", "reject", "unsure"]))
@click.option("--by", "decided_by", required=True, help="Who decides (steward's account).")
@click.option("--as-of", "as_of", default=None, help="The queue's night (default: the latest kept).")
@click.option("--note", default=None)
def review_decide(
    source: str, record_id: str, personal_id: str, decision: str, decided_by: str, as_of: str | None, note: str | None
) -> None:
    """Decide one pair of the queue (checked: the pair must be in that night's queue)."""
    from assets.linkage_model.review import Decision, apply_decisions

    night = parse_as_of(as_of) if as_of else None
    pair = Decision(source, record_id, personal_id, decision, decided_by, 1, note)
    _apply_review(lambda con: apply_decisions(con, [pair], as_of=night))


@review.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def review_import(file: str) -> None:
    """Import a filled review workbook (review_<commune>.xlsx): every row is checked, all or nothing."""
    from assets.linkage_model.review import import_workbook

    _apply_review(lambda con: import_workbook(con, file))


@main.command()
def ui() -> None:
    """Open the Dagster UI (dagster dev) on this code location."""
    _dagster_home()
    workspace = Path(__file__).resolve().parents[1] / "workspace.yaml"
    dagster = Path(sys.executable).parent / "dagster"
    sys.exit(subprocess.call([str(dagster), "dev", "-w", str(workspace)]))


if __name__ == "__main__":
    main()
