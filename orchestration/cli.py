"""`doisoat`: the command line for people. `run` executes the same Dagster job the schedule runs.

Every user error is one line naming what was typed, with a non-zero exit (2: bad input, 75: another night holds
the warehouse, 1: the night failed); `--debug` shows the traceback instead. The console is quiet by default: one
line per step and a summary; `-v` shows Dagster's and dbt's logs.
"""

import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from assets.night import NightBusy, NightLock, NightNotReady, check_night, configured_urls, scrub
from assets.partitions import NIGHTS, TIMEZONE
from assets.resources import SOURCE_URL_VARIABLES, WarehouseResource
from orchestration.instance import dagster_home, open_instance

FULL_REFRESH_TAG = "doisoat/full_refresh"  # read by ingestion: extract every row, not what changed
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


def parse_as_of(value: str | None, name: str = "DOISOAT_AS_OF") -> dt.date:
    """The night a command is about: `YYYY-MM-DD`, or today in Asia/Ho_Chi_Minh when empty; within NIGHTS."""
    if not value:
        return dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    try:
        night = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value}: not a date (YYYY-MM-DD)") from None
    first = dt.date.fromisoformat(NIGHTS.start.strftime("%Y-%m-%d"))
    if night < first:
        raise ValueError(f"{name} {value}: before the first night {first} (DOISOAT_FIRST_NIGHT)")
    return night


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


def _simulate_as_of(ctx, param, value):
    """--as-of of `simulate`: None when not given (the kept night + 1 with --advance, else DOISOAT_AS_OF/today)."""
    return None if value is None else _as_of(ctx, param, value)


def _simulate_sources(ctx, param, value):
    """--stale/--down: source names from the simulator's list, one-line error otherwise."""
    from simulator.schema import SOURCES as SIM_SOURCES

    for name in value:
        if name not in SIM_SOURCES:
            raise UserError(f"{param.opts[0]} {name}: not a source (one of {', '.join(SIM_SOURCES)})")
    return tuple(value)


@main.command()
@click.option("--scenario", default=None, type=click.Choice(["tiny", "tiny_clean", "dense", "demo", "province"]))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    callback=_simulate_as_of,
    help="YYYY-MM-DD: the night the sources end at; default DOISOAT_AS_OF or today (with --advance: the kept "
    "night + 1).",
)
@click.option("--truth", default=None, help="Ground-truth file (default data/sources/ground_truth.parquet).")
@click.option("--advance", is_flag=True, help="Move the sources one night on from the kept state (beside --truth).")
@click.option(
    "--nights", default=1, show_default=True, type=click.IntRange(min=1), help="Simulate N nights ending at --as-of."
)
@click.option("--stale", multiple=True, callback=_simulate_sources, help="With --advance: SOURCE gets no change.")
@click.option("--down", multiple=True, callback=_simulate_sources, help="With --advance: SOURCE unreachable tonight.")
@click.option("--rate", default=0.01, show_default=True, type=float, help="Share of rows changed per night.")
@common
def simulate(
    scenario: str | None,
    seed: int,
    as_of,
    truth: str | None,
    advance: bool = False,
    nights: int = 1,
    stale: tuple[str, ...] = (),
    down: tuple[str, ...] = (),
    rate: float = 0.01,
) -> None:
    """Write the five simulated source databases to the URLs of SOURCES.md's environment variables."""
    _check_sqlite_targets({s: os.environ.get(v, "") for s, (v, _) in SOURCE_URL_VARIABLES.items()}, truth)
    if advance and (scenario or nights > 1):
        raise UserError("--advance continues the kept state: no --scenario or --nights with it")
    if not advance and not scenario:
        raise UserError("--scenario is required (unless --advance)")
    if (stale or down) and not advance:
        raise UserError("--stale and --down go with --advance")
    import datetime as dt

    # the pipeline never imports the simulator; this verb does
    from simulator import simulate as run_simulation
    from simulator.nights import StateError
    from simulator.nights import advance as advance_night

    started = time.perf_counter()
    try:
        if advance:
            night = advance_night(truth_path=truth, as_of=as_of, stale=stale, down=down, rate=rate)
            click.echo(f"advanced to night {night['as_of']} in {time.perf_counter() - started:.1f}s:")
            for table, ch in night["changes"].items():
                click.echo(f"  {table:<32} +{ch['inserted']:,} ~{ch['updated']:,} -{ch['deleted']:,}")
            for what in ("stale", "down"):
                if night[what]:
                    click.echo(f"  {what}: {', '.join(night[what])}")
            return
        as_of = as_of or _as_of(None, None, None)
        first = as_of - dt.timedelta(days=nights - 1)
        counts = run_simulation(scenario, seed=seed, as_of=first, truth_path=truth, progress=True)
        click.echo(f"simulated '{scenario}' (seed {seed}, as of {first}) in {time.perf_counter() - started:.1f}s:")
        for table, rows in counts.items():
            click.echo(f"  {table:<32} {rows:>10,}")
        for _ in range(nights - 1):
            night = advance_night(truth_path=truth, rate=rate)
            changed = sum(sum(ch.values()) for ch in night["changes"].values())
            click.echo(f"advanced to night {night['as_of']}: {changed:,} rows changed")
    except StateError as exc:
        raise UserError(str(exc)) from None


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


def run_night(
    as_of: str | None = None,
    selection=None,
    wait: float = 0,
    verbose: bool | None = None,
    full_refresh: bool = False,
) -> bool:
    """Execute the nightly job's partition `as_of` in this process, recorded in DAGSTER_HOME; True if it succeeded.

    `selection` (a `dg.AssetSelection`) limits the run to part of the night; None runs all of it. The night's
    lock is taken first (NightBusy if another night holds it past `wait` seconds) and held to the end.
    `full_refresh` extracts every source row instead of what changed since the last committed night.
    """
    verbose = _STATE["verbose"] if verbose is None else verbose
    night = parse_as_of(as_of or os.environ.get("DOISOAT_AS_OF")).isoformat()
    warehouse = _warehouse_path()
    with _night_lock(warehouse, wait, night):
        return _run_locked(night, selection, warehouse, verbose, full_refresh)


def _run_locked(night: str, selection, warehouse: Path, verbose: bool, full_refresh: bool = False) -> bool:
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
    run_config: dict = {}
    if not verbose:
        run_config["loggers"] = {"console": {"config": {"log_level": "CRITICAL"}}}
    click.echo(f"loaded in {elapsed(time.perf_counter() - started)}; running (run {run_id[:8]}):")
    # dagster-dbt echoes every dbt event to sys.stdout: in quiet mode that goes nowhere (dbt.log keeps it).
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(open(os.devnull, "w"))  # noqa: SIM115
    try:
        with instance, quiet:
            result = job.execute_in_process(
                asset_selection=keys,
                instance=instance,
                run_config=run_config,
                run_id=run_id,
                partition_key=night,
                tags={
                    WAREHOUSE_TAG: str(warehouse),
                    PID_TAG: str(os.getpid()),
                    **({FULL_REFRESH_TAG: "true"} if full_refresh else {}),
                },
                raise_on_error=False,
            )
    finally:
        console.close()
    took = elapsed(time.perf_counter() - started)
    click.echo(f"night {night}: {'succeeded' if result.success else 'FAILED'} in {took} (run {result.run_id})")
    if result.success:
        _print_summary(warehouse, night, console)
    else:
        from assets.alerts import notify_failed_result

        notify_failed_result(dt.date.fromisoformat(night), result, warehouse)
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
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Extract every source row, not only what changed since the last committed night.",
)
@wait_option
@common
def run(as_of, full_refresh: bool, wait: float) -> None:
    """Run one night (the Dagster partition --as-of) into DOISOAT_WAREHOUSE (exit 1 if it failed).

    A night after the last committed one extracts what changed; an earlier night is rerun from the kept history
    of the sources, so it gives the marts it gave then.
    """
    sys.exit(0 if run_night(as_of.isoformat(), wait=wait, full_refresh=full_refresh) else 1)


DEMO_NIGHTS = 3


@main.command()
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--nights", default=DEMO_NIGHTS, show_default=True, type=click.IntRange(1, 30))
@as_of_option
@wait_option
@common
def demo(seed: int, nights: int, as_of, wait: float) -> None:
    """Simulate the demo province over several nights on the embedded default, reconcile each, report the last.

    The first night is simulated whole and extracted in full; each later night the simulator changes about 1 %
    of the rows (births, deaths, moves, corrections, new defects) and the night extracts what changed. The
    earlier nights run without their report (their marts feed the last report's trends).
    """
    import dagster as dg

    for variable, _ in SOURCE_URL_VARIABLES.values():
        os.environ.pop(variable, None)  # the embedded default, whatever the shell says
    warehouse = _warehouse_path()
    first = as_of - dt.timedelta(days=nights - 1)
    without_report = dg.AssetSelection.all() - dg.AssetSelection.groups("report")
    ok = True
    with _night_lock(warehouse, wait, as_of.isoformat()):  # the sources are rewritten: hold the nights from here
        from simulator import advance
        from simulator import simulate as run_simulation

        for number in range(nights):
            night = first + dt.timedelta(days=number)
            started = time.perf_counter()
            if number == 0:
                # a new demo starts from a new warehouse: its history would not match the new sources
                for stale in (warehouse, warehouse.with_suffix(".duckdb.wal")):
                    stale.unlink(missing_ok=True)
                counts = run_simulation("demo", seed=seed, as_of=night, progress=not _STATE["verbose"])
                what = f"simulated 'demo' (seed {seed}): {sum(counts.values()):,} rows"
            else:
                changes = advance(as_of=night, seed=seed)
                what = f"the sources changed overnight: {_describe_changes(changes)}"
            click.echo(f"night {number + 1} of {nights} ({night}): {what} in {time.perf_counter() - started:.1f}s")
            last = number == nights - 1
            ok = run_night(night.isoformat(), selection=None if last else without_report, wait=wait)
            if not ok:
                break
    click.echo(f"warehouse: {warehouse}")
    sys.exit(0 if ok else 1)


def _describe_changes(changes: dict) -> str:
    """One line from advance()'s account of the night: rows per kind of change, over all tables."""
    totals: dict[str, int] = {}
    for table in (changes.get("changes") or {}).values():
        for kind, count in table.items():
            totals[kind] = totals.get(kind, 0) + int(count)
    return ", ".join(f"{count:,} {kind}" for kind, count in totals.items()) or "nothing"


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
