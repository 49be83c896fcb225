"""The quiet console of a night: one line per step with its time, a live bar for long steps on a terminal.

Fed by Dagster's event stream in this process (`instance.add_event_listener`): no log line reaches the console
unless `-v` is given. Failure lines carry the root cause's first line, credentials scrubbed.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import click

from assets.night import configured_urls, root_cause, scrub

LABELS = {
    "dbt_staging": "dbt: seeds, staging",
    "intermediate__linkage_probabilistic": "linkage (Splink)",
    "dbt_reconciliation": "dbt: links, rules, marts",
    "gx_checks": "quality checks (GX)",
    "quality__gx_gates": "quality gates (GX)",
    "report__stewards_report": "stewards' report",
}


def step_label(step_key: str) -> str:
    """A readable name for a step: `raw__population__citizen` → `ingest population.citizen`."""
    if step_key in LABELS:
        return LABELS[step_key]
    if step_key.startswith("raw__"):
        return "ingest " + step_key.removeprefix("raw__").replace("__", ".", 1)
    return step_key


def elapsed(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


@dataclass
class NightConsole:
    """Collects a run's events and prints its progress; `sizes` is the number of assets of each step."""

    sizes: dict[str, int] = field(default_factory=dict)
    verbose: bool = False
    out: object = None  # where progress goes (the real stdout, while dbt's echo is redirected)
    started: dict[str, float] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)
    warned_checks: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    run_failure: str = ""
    _live: object = None
    _task: object = None

    def __post_init__(self) -> None:
        self.out = self.out or sys.stdout
        self.tty = self.out.isatty() and not self.verbose

    def say(self, text: str) -> None:
        if self._live is not None:
            self._live.console.print(text, highlight=False, markup=False)
        else:
            click.echo(text, file=self.out)

    def _start_bar(self, step: str) -> None:
        if not self.tty:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._live = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
            console=Console(file=self.out),
        )
        self._live.start()
        self._task = self._live.add_task(step_label(step), total=self.sizes.get(step) or None)

    def _stop_bar(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __call__(self, entry, _cursor=None) -> None:
        """Dagster's event-listener callback."""
        from dagster import AssetCheckSeverity, DagsterEventType

        event = entry.dagster_event
        if event is None:
            return
        kind, step = event.event_type, event.step_key
        if kind == DagsterEventType.STEP_START:
            self.started[step] = time.perf_counter()
            self._start_bar(step)
        elif kind == DagsterEventType.ASSET_MATERIALIZATION and step:
            self.done[step] = self.done.get(step, 0) + 1
            if self._live is not None:
                self._live.update(self._task, completed=self.done[step])
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                target = self.failed_checks if evaluation.severity == AssetCheckSeverity.ERROR else self.warned_checks
                target.append(evaluation.check_name)
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            self._stop_bar()
            took = elapsed(time.perf_counter() - self.started.get(step, time.perf_counter()))
            if kind == DagsterEventType.STEP_SUCCESS:
                self.say(f"  ok      {step_label(step):<40} {took:>8}")
            else:
                error = event.step_failure_data.error if event.step_failure_data else None
                cause = scrub(root_cause(error), configured_urls()) if error else ""
                self.failures.append((step, cause))
                self.say(f"  FAILED  {step_label(step):<40} {took:>8}  {cause}")
        elif kind == DagsterEventType.STEP_SKIPPED:
            self.say(f"  skipped {step_label(step)}")
        elif kind in (DagsterEventType.RUN_FAILURE, DagsterEventType.RESOURCE_INIT_FAILURE):
            self._stop_bar()
            data = event.event_specific_data
            error = getattr(data, "error", None)
            if error is not None and not self.failures:
                self.run_failure = scrub(root_cause(error), configured_urls())
                self.say(f"  FAILED  {self.run_failure}")

    def close(self) -> None:
        self._stop_bar()
