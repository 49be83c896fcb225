"""`doisoat`: the command line for people. `run` executes the same Dagster job the schedule runs.

Every user error is one line naming what was typed, with a non-zero exit (2: bad input, 75: another night holds
the warehouse, 1: the night failed); `--debug` shows the traceback instead. The console is quiet by default: one
line per step and a summary; `-v` shows Dagster's and dbt's logs.
"""

import contextlib
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from assets.night import NightBusy, NightLock, NightNotReady, check_night, configured_urls, scrub
from orchestration.instance import dagster_home, open_instance
from orchestration.resources import SOURCE_URL_VARIABLES, parse_as_of

EXIT_BAD_INPUT = 2
EXIT_BUSY = 75  # EX_TEMPFAIL: try again later
_STATE = {"debug": False, "verbose": False}


class UserError(click.ClickException):
    """One line for the user, no traceback."""

    exit_code = EXIT_BAD_INPUT


class Busy(click.ClickException):
    exit_code = EXIT_BUSY


class DoisoatGroup(click.Group):
    """Turns any unexpected exception into one line (the traceback with --debug); usage errors are one line."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except click.UsageError as exc:
            where = f" (doisoat {exc.ctx.info_name} --help)" if exc.ctx and exc.ctx.parent else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except NightBusy as exc:
            raise Busy(str(exc)) from None
        except NightNotReady as exc:
            raise UserError(str(exc)) from None
        except Exception as exc:
            if _STATE["debug"]:
                raise
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise click.ClickException(
                scrub(f"{type(exc).__name__}: {first} (--debug for the traceback)", configured_urls())
            ) from None


def _set_debug(ctx, param, value):
    if value:
        _STATE["debug"] = True
    return value


def _set_verbose(ctx, param, value):
    if value:
        _STATE["verbose"] = True
    return value


def common(command):
    """--debug and -v accepted after the command too (`doisoat run --debug`)."""
    command = click.option(
        "--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug, help="Show tracebacks."
    )(command)
    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbose,
        help="Show Dagster's and dbt's logs.",
    )(command)


def _as_of(ctx, param, value):
    """Parse --as-of, naming the option (or DOISOAT_AS_OF when it came from there) in the error."""
    if value:
        try:
            return parse_as_of(value, name="--as-of")
        except ValueError as exc:
            raise UserError(str(exc)) from None
    try:
        return parse_as_of(os.environ.get("DOISOAT_AS_OF"))
    except ValueError as exc:
        raise UserError(str(exc)) from None


def as_of_option(command):
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        callback=_as_of,
        help="YYYY-MM-DD; default DOISOAT_AS_OF or today (Asia/Ho_Chi_Minh).",
    )(command)


def wait_option(command):
    return click.option(
        "--wait",
        "wait",
        type=float,
        default=0.0,
        is_flag=False,
        flag_value=-1.0,
        help="If another night holds the warehouse: wait for it (up to SECONDS if given) instead of exiting.",
    )(command)


@click.group(cls=DoisoatGroup)
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug, help="Show tracebacks.")
@click.option(
    "-v", "--verbose", is_flag=True, expose_value=False, is_eager=True, callback=_set_verbose, help="Show the logs."
)
def main() -> None:
    """doisoat — đối soát dữ liệu chuyên ngành với CSDL quốc gia về dân cư (Đề án 06)."""


def _check_sqlite_targets(urls: dict[str, str], truth: str | None) -> None:
    """A SQLite URL or truth file the user configured must be under an existing directory (never created)."""
    from sqlalchemy.engine import make_url

    for source, (variable, default) in SOURCE_URL_VARIABLES.items():
        url = urls.get(source) or default
        try:
            parsed = make_url(url)
        except Exception:
            raise UserError(f"{variable}: not a SQLAlchemy URL") from None
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            continue
        folder = Path(parsed.database).parent
        if url == default:
            folder.mkdir(parents=True, exist_ok=True)  # the embedded default lives under data/sources
        elif not folder.is_dir():
            raise UserError(f"{variable} {scrub(url, [url])}: directory {folder} does not exist")
    if truth and not Path(truth).parent.is_dir():
        raise UserError(f"--truth {truth}: directory {Path(truth).parent} does not exist")


@main.command()
@click.option("--scenario", required=True, type=click.Choice(["tiny", "tiny_clean", "dense", "demo", "province"]))
@click.option("--seed", default=0, show_default=True, type=int)
@as_of_option
@click.option("--truth", default=None, help="Ground-truth file (default data/sources/ground_truth.parquet).")
@common
def simulate(scenario: str, seed: int, as_of, truth: str | None) -> None:
    """Write the five simulated source databases to the URLs of SOURCES.md's environment variables."""
    _check_sqlite_targets({s: os.environ.get(v, "") for s, (v, _) in SOURCE_URL_VARIABLES.items()}, truth)
    from simulator import simulate as run_simulation  # the pipeline never imports the simulator; this verb does

    started = time.perf_counter()
    counts = run_simulation(scenario, seed=seed, as_of=as_of, truth_path=truth, progress=True)
    click.echo(f"simulated '{scenario}' (seed {seed}, as of {as_of}) in {time.perf_counter() - started:.1f}s:")
    for table, rows in counts.items():
        click.echo(f"  {table:<32} {rows:>10,}")


def _quiet() -> None:
    """No Python warnings, progress bars or colours from the libraries a night runs (unless -v)."""
    warnings.simplefilter("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")
    if not sys.stdout.isatty():
        os.environ.setdefault("DBT_USE_COLORS", "false")
        os.environ.setdefault("NO_COLOR", "1")


def _step_sizes(defs) -> dict[str, int]:
    """How many assets each step of the nightly job materialises (the progress bar's total)."""
    sizes = {}
    for assets_def in defs.assets or []:
        if hasattr(assets_def, "keys") and hasattr(assets_def, "node_def"):
            name = assets_def.node_def.name
            sizes[name] = len(assets_def.keys)
    return sizes


def run_night(as_of: str | None = None, selection=None, wait: float = 0, verbose: bool | None = None) -> bool:
    """Execute the nightly job in this process, recorded in DAGSTER_HOME; True when the night succeeded.

    `selection` (a `dg.AssetSelection`) limits the run to part of the night; None runs all of it. The night's
    lock is taken first (NightBusy if another night holds it past `wait` seconds) and held to the end.
    """
    verbose = _STATE["verbose"] if verbose is None else verbose
    night = parse_as_of(as_of or os.environ.get("DOISOAT_AS_OF")).isoformat()
    os.environ["DOISOAT_AS_OF"] = night  # the dbt subprocess and every resource see the same night
    warehouse = _warehouse_path()
    with _night_lock(warehouse, wait, night):
        return _run_locked(night, selection, warehouse, verbose)


def _run_locked(night: str, selection, warehouse: Path, verbose: bool) -> bool:
    from assets.night import PID_TAG, WAREHOUSE_TAG

    started = time.perf_counter()
    click.echo(f"night {night}: opening Dagster's storage ({dagster_home()})")
    instance = open_instance()
    if not verbose:
        _quiet()
    click.echo("loading the code location (dbt manifest, assets)…")
    from dagster._core.utils import make_new_run_id

    from orchestration.console import NightConsole, elapsed
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly")
    keys = None if selection is None else list(selection.resolve(defs.resolve_asset_graph()))
    console = NightConsole(sizes=_step_sizes(defs), verbose=verbose, out=sys.stdout)
    run_id = make_new_run_id()
    instance.add_event_listener(run_id, console)
    run_config: dict = {"resources": {"night": {"config": {"as_of": night}}}}
    if not verbose:
        run_config["loggers"] = {"console": {"config": {"log_level": "CRITICAL"}}}
    click.echo(f"loaded in {elapsed(time.perf_counter() - started)}; running (run {run_id[:8]}):")
    # dagster-dbt echoes every dbt event to sys.stdout: in quiet mode that goes nowhere (dbt.log keeps it).
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(open(os.devnull, "w"))  # noqa: SIM115
    try:
        with instance, quiet:
            result = job.execute_in_process(
                asset_selection=keys,
                partition_key=night,
                instance=instance,
                run_config=run_config,
                run_id=run_id,
                tags={"as_of": night, WAREHOUSE_TAG: str(warehouse), PID_TAG: str(os.getpid())},
                raise_on_error=False,
            )
    finally:
        console.close()
    took = elapsed(time.perf_counter() - started)
    click.echo(f"night {night}: {'succeeded' if result.success else 'FAILED'} in {took} (run {result.run_id})")
    if result.success:
        _print_summary(warehouse, night, console)
    else:
        click.echo("the night's marts are not complete: its report and gates refuse it until it is rerun")
    return result.success


def _status_line(warehouse: Path, night: str) -> str:
    """What the warehouse now says of the night (after a failure)."""
    import datetime as dt

    import duckdb

    from assets.night import USABLE, night_status

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            status = night_status(con, dt.date.fromisoformat(night))
    except duckdb.Error:
        status = None
    if status is None:
        return f"night {night}: no status recorded"
    if status.status in USABLE:
        return f"night {night}: its marts are complete ({status.describe()}); `doisoat report` can rebuild its report"
    return f"night {night}: incomplete ({status.describe()}); the report and gates refuse it until it is rerun"


def _print_summary(warehouse: Path, night: str, console) -> None:
    import datetime as dt

    from orchestration.summary import night_summary

    report = warehouse.parent / "reports" / night / "index.html"
    try:
        lines = night_summary(warehouse, dt.date.fromisoformat(night), console.warned_checks, report)
    except Exception as exc:  # a summary never hides the night's own outcome
        lines = [f"(no summary: {type(exc).__name__})"]
    for line in lines:
        click.echo(line)


@main.command()
@as_of_option
@wait_option
@common
def run(as_of, wait: float) -> None:
    """Run the whole night for the configured sources into DOISOAT_WAREHOUSE (exit 1 if it failed)."""
    sys.exit(0 if run_night(as_of.isoformat(), wait=wait) else 1)


@main.command()
@click.option("--seed", default=0, show_default=True, type=int)
@as_of_option
@wait_option
@common
@click.pass_context
def demo(ctx: click.Context, seed: int, as_of, wait: float) -> None:
    """Simulate the demo province on the embedded default, run the night, and say where the results are."""
    for variable, _ in SOURCE_URL_VARIABLES.values():
        os.environ.pop(variable, None)  # the embedded default, whatever the shell says
    warehouse = _warehouse_path()
    with _night_lock(warehouse, wait, as_of.isoformat()):  # the sources are rewritten: hold the night from here
        ctx.invoke(simulate, scenario="demo", seed=seed, as_of=as_of, truth=None)
        ok = run_night(as_of.isoformat(), wait=wait)
    click.echo(f"warehouse: {warehouse}")
    sys.exit(0 if ok else 1)


@contextmanager
def _night_lock(warehouse: Path, wait: float, night: str) -> Iterator[None]:
    """Hold the warehouse's night lock (NightBusy, one line, if another night holds it past `wait` seconds)."""
    lock = NightLock(warehouse)
    lock.acquire(wait, holder={"as_of": night}, hint="; try again later, or pass --wait [SECONDS]")
    try:
        yield
    finally:
        lock.release()


def _warehouse_path() -> Path:
    from orchestration.resources import WarehouseResource

    return WarehouseResource().resolved_path().resolve()


@main.command()
@as_of_option
@click.option("--out", default=None, help="Reports folder (default: beside the warehouse, data/reports).")
@click.option("--unmasked", is_flag=True, help="Full names and IDs — only for a reader entitled to them.")
@wait_option
@common
def report(as_of, out: str | None, unmasked: bool, wait: float) -> None:
    """(Re)build the stewards' report of a night already reconciled in the warehouse."""
    warehouse = _warehouse_path()
    with _night_lock(warehouse, wait, as_of.isoformat()):
        check_night(warehouse, as_of)  # one line if the night is not there or not complete
        if not _STATE["verbose"]:
            _quiet()
        from assets.report import build_report

        index = build_report(warehouse, as_of, out or warehouse.parent / "reports", masked=not unmasked)
    click.echo(f"report: {index}")


@main.command()
@as_of_option
@click.argument("references", nargs=-1, required=True)
@common
def resolve(as_of, references: tuple[str, ...]) -> None:
    """For an entitled reader: the source and record key behind report references ("Tham chiếu" column)."""
    from assets.reporting.refs import resolve as resolve_references

    warehouse = _warehouse_path()
    check_night(warehouse, as_of)
    found = resolve_references(warehouse, as_of, list(references))
    known = set(found["reference"])
    for row in found.itertuples(index=False):
        click.echo(f"{row.reference}\t{row.source}\t{row.source_record_id}")
    missing = [r for r in references if r.strip().lower() not in known]
    if missing:
        raise UserError(f"not a reference of night {as_of}: {', '.join(missing)}")


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
@click.option("--port", "-p", default=3000, show_default=True, type=click.IntRange(1, 65535), help="The UI's port.")
@click.option("--host", default="127.0.0.1", show_default=True)
@common
def ui(port: int, host: str) -> None:
    """Open the Dagster UI (dagster dev) on this code location."""
    open_instance().dispose()  # create Dagster's storage once, under its lock, before the UI and its runs
    workspace = Path(__file__).resolve().parents[1] / "workspace.yaml"
    dagster = Path(sys.executable).parent / "dagster"
    sys.exit(subprocess.call([str(dagster), "dev", "-w", str(workspace), "--port", str(port), "--host", host]))


if __name__ == "__main__":
    main()
