"""The quality gates: Great Expectations suites over small frames aggregated from the marts in DuckDB.

GX 1.24 cannot validate DuckDB through SQLAlchemy (GX issue 10738: every metric fails with "list index out of
range" on `duckdb_engine`, which is not installed here anyway), so DuckDB does the counting (see `units.py`)
and GX's pandas datasource validates what it returns — a few hundred rows, never the marts' millions — in a
file context under `<warehouse folder>/gx` (offline: analytics off, no cloud). The GX context keeps the suites,
the validation results of every night and the Data Docs site.

Two kinds of suite:
* `indicators`: one row, one column per indicator holding the rate of `marts.fct_indicators` at province
  scope, and `expect_column_values_to_be_between(min_value=target)` per indicator.
* `invariants_<mart>`: what must always hold. `fct_indicators` (all scopes): a numerator never above its
  denominator, a rate that is its numerator over its denominator, targets of the catalogue, one row per key, and
  every row equal to the indicator recomputed in DuckDB from fct_reconciliation, fct_findings and staging,
  independently of the dbt model (`agrees_with_marts`). `fct_reconciliation` and `fct_findings`: per-group
  counts of the rows that break an invariant (duplicate keys, links that contradict their method, findings of
  no record, criteria not of the catalogue …), expected to be 0. A failure here is a broken mart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from expectations.gx.units import (  # noqa: E402
    Indicator,
    read_catalogues,
    read_indicators,
    read_invariant_batches,
    read_recomputed,
)

DATASOURCE = "doisoat_marts"
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


@dataclass(frozen=True)
class IndicatorGate:
    """What GX observed for one indicator at province scope."""

    indicator_code: str
    source: str
    target: float
    numerator: int
    denominator: int
    rate: float | None  # percent, exact; None when the denominator is 0
    success: bool  # GX: the share passing is at least the target


@dataclass(frozen=True)
class InvariantGate:
    mart: str
    rows: int
    success: bool
    failures: list[dict] = field(default_factory=list)  # expectation, column(s), unexpected_count


@dataclass
class GateResults:
    as_of: str
    indicators: dict[str, IndicatorGate]
    invariants: dict[str, InvariantGate]
    data_docs_index: str | None = None
    # the night's validation page of each suite, relative to the Data Docs site (its index needs CDN JS)
    validation_pages: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> GateResults:
        data = json.loads(text)
        return cls(
            as_of=data["as_of"],
            indicators={k: IndicatorGate(**v) for k, v in data["indicators"].items()},
            invariants={k: InvariantGate(**v) for k, v in data["invariants"].items()},
            data_docs_index=data.get("data_docs_index"),
            validation_pages=data.get("validation_pages") or {},
        )


def gx_root_for(warehouse: Path) -> Path:
    """Where the GX file context of a warehouse lives: `<warehouse folder>/gx`."""
    return Path(warehouse).resolve().parent / "gx"


def results_path(gx_root: Path, as_of: dt.date | str) -> Path:
    return Path(gx_root) / "results" / f"{as_of}.json"


def get_context(gx_root: Path):
    """The file context (created on first use), offline, without progress bars."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx_root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _batch_definition(context, asset_name: str):
    try:
        source = context.data_sources.get(DATASOURCE)
    except KeyError:
        source = context.data_sources.add_pandas(DATASOURCE)
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition("night")
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe("night")


def run_name(as_of: dt.date | str) -> str:
    return f"doisoat-{as_of}"


def _validate(context, name: str, suite, frame: pd.DataFrame, as_of: dt.date):
    """Store `suite` and validate `frame` against it; the validation result is kept for Data Docs."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=_batch_definition(context, name), suite=suite)
    )
    return definition.run(
        batch_parameters={"dataframe": frame},
        result_format=RESULT_FORMAT,
        run_id=RunIdentifier(run_name=run_name(as_of)),
    )


def indicator_suite(indicators: list[Indicator]):
    """`indicators`: each indicator's province rate (one-row batch, one column per indicator) against its target.

    Built whole (expectations given to the constructor): `add_expectation` on a suite the store already holds
    rewrites the stored suite once per expectation (~0.3 s each, every night after the first).
    """
    import great_expectations as gx

    return gx.ExpectationSuite(
        name="indicators",
        expectations=[
            gx.expectations.ExpectColumnValuesToBeBetween(
                column=indicator.code,
                min_value=indicator.target,
                meta={"indicator_code": indicator.code, "target": indicator.target},
                description=f"{indicator.name_en}: at least {indicator.target:g}% (target)",
            )
            for indicator in indicators
        ],
    )


def province_rates(batch: pd.DataFrame, indicators: list[Indicator]) -> pd.DataFrame:
    """One row: the province rate of `fct_indicators` of each indicator (NaN when none)."""
    province = batch[batch["scope_level"] == "province"].dropna(subset=["rate"]).set_index("indicator_code")
    codes = [i.code for i in indicators]
    return pd.DataFrame({code: [float(province["rate"].get(code, float("nan")))] for code in codes})


def invariant_suites(catalogues: dict[str, list[str]]) -> dict:
    """`invariants_<mart>`: what must hold in every night's marts."""
    import great_expectations as gx

    e = gx.expectations
    sector = ["vaccination", "social", "civil", "children"]
    none = {"min_value": 0, "max_value": 0}
    suites = {
        "fct_indicators": [
            e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="denominator", column_B="numerator", or_equal=True),
            e.ExpectColumnValuesToBeBetween(column="numerator", min_value=0),
            e.ExpectColumnValuesToBeBetween(column="rate", min_value=0, max_value=100),
            e.ExpectColumnValuesToBeInSet(column="rate_is_numerator_over_denominator", value_set=[True]),
            e.ExpectColumnValuesToBeInSet(column="meets_target_is_rate_vs_target", value_set=[True]),
            e.ExpectColumnValuesToBeInSet(column="target_is_catalogue_target", value_set=[True]),
            e.ExpectColumnValuesToBeInSet(column="scope_level", value_set=["province", "commune"]),
            e.ExpectColumnValuesToBeInSet(column="indicator_code", value_set=catalogues["indicator_codes"]),
            e.ExpectCompoundColumnsToBeUnique(column_list=["indicator_code", "scope_level", "scope_code"]),
            e.ExpectColumnValuesToBeInSet(column="agrees_with_marts", value_set=[True]),
        ],
        "fct_reconciliation": [
            e.ExpectColumnValuesToBeInSet(column="source", value_set=sector),
            e.ExpectColumnValuesToBeInSet(
                column="match_method", value_set=["personal_id", "legacy_id", "probabilistic", "none"]
            ),
            e.ExpectColumnValuesToBeBetween(column="min_match_probability", min_value=0, max_value=1),
            e.ExpectColumnValuesToBeBetween(column="max_match_probability", min_value=0, max_value=1),
            e.ExpectColumnValuesToBeBetween(column="duplicate_rows", **none),
            e.ExpectColumnValuesToBeBetween(column="link_disagrees_with_method", **none),
            e.ExpectColumnValuesToBeBetween(column="reconciled_without_link", **none),
        ],
        "fct_findings": [
            e.ExpectColumnValuesToBeInSet(column="source", value_set=["population", *sector]),
            e.ExpectColumnValuesToBeInSet(column="criterion", value_set=["dung", "du", "sach", "song"]),
            e.ExpectColumnValuesToBeInSet(column="rule_code", value_set=catalogues["rule_codes"]),
            e.ExpectColumnValuesToBeBetween(column="duplicate_rows", **none),
            e.ExpectColumnValuesToBeInSet(column="criterion_is_catalogue_criterion", value_set=[True]),
            e.ExpectColumnValuesToBeBetween(column="rows_without_record", **none),
        ],
    }
    return {mart: gx.ExpectationSuite(name=f"invariants_{mart}", expectations=e_) for mart, e_ in suites.items()}


def _observed(result: dict) -> tuple[int, int, float | None]:
    """(numerator, denominator, rate %) from an expect_column_values_to_be_in_set result."""
    element_count = int(result.get("element_count") or 0)
    missing = int(result.get("missing_count") or 0)
    unexpected = int(result.get("unexpected_count") or 0)
    denominator = element_count - missing
    numerator = denominator - unexpected
    rate = 100.0 * numerator / denominator if denominator > 0 else None
    return numerator, denominator, rate


def _expectation_label(config) -> str:
    kwargs = config.kwargs
    columns = kwargs.get("column") or kwargs.get("column_list") or [kwargs.get("column_A"), kwargs.get("column_B")]
    return f"{config.type}({columns})"


def _objects(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Boolean columns as Python objects (True/False/None): what GX's pandas engine counts without surprises."""
    frame = frame.copy()
    for column in columns:
        series = frame[column].astype(object)
        frame[column] = series.where(series.notna(), None)
    return frame


BOOLEAN_COLUMNS = {
    "fct_indicators": [
        "meets_target",
        "rate_is_numerator_over_denominator",
        "meets_target_is_rate_vs_target",
        "target_is_catalogue_target",
        "agrees_with_marts",
    ],
    "fct_findings": ["criterion_is_catalogue_criterion"],
    "fct_reconciliation": [],
}


def _unexpected(config, result: dict, frame: pd.DataFrame) -> int:
    """Rows of the mart behind a failed expectation: a count column's total, else GX's unexpected count."""
    column = config.kwargs.get("column")
    if config.type == "expect_column_values_to_be_between" and config.kwargs.get("max_value") == 0:
        return int(frame[column].sum())
    return int(result.get("unexpected_count") or 0)


def read_all(con, as_of: dt.date) -> tuple[list[Indicator], pd.DataFrame, dict[str, pd.DataFrame], dict]:
    """Everything the suites validate, counted in DuckDB (indicators, recomputation, invariant batches, catalogues)."""
    try:
        indicators = read_indicators(con)
        recomputed = read_recomputed(con, as_of, indicators)
        return indicators, recomputed, read_invariant_batches(con, as_of, recomputed), read_catalogues(con)
    finally:
        con.close()


def run_gates(con, as_of: dt.date, gx_root: Path, build_docs: bool = True) -> GateResults:
    """Validate the night's marts with GX; store the results (and Data Docs) under `gx_root`."""
    # DuckDB counts on its own cursor (it releases the GIL) while GX is imported and its context opened:
    # importing GX is most of the gates' fixed cost, and the two overlap on two cores
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(read_all, con.cursor(), as_of)
        context = get_context(gx_root)
        indicators, recomputed, batches, catalogues = reading.result()
    province = recomputed[recomputed["scope_level"] == "province"].set_index("indicator_code")

    gates: dict[str, IndicatorGate] = {}
    by_code = {i.code: i for i in indicators}
    # one validation for all indicators: GX's cost is per validation (suite, definition, result, docs page)
    validation = _validate(
        context, "indicators", indicator_suite(indicators), province_rates(batches["fct_indicators"], indicators), as_of
    )
    for outcome in validation.results:
        code = outcome.expectation_config.kwargs["column"]
        numerator = int(province["numerator"].get(code, 0))
        denominator = int(province["denominator"].get(code, 0))
        rate = 100.0 * numerator / denominator if denominator > 0 else None
        gates[code] = IndicatorGate(
            indicator_code=code,
            source=by_code[code].source,
            target=by_code[code].target,
            numerator=numerator,
            denominator=denominator,
            rate=rate,
            success=bool(outcome.success) if denominator > 0 else True,
        )

    invariants: dict[str, InvariantGate] = {}
    for mart, suite in invariant_suites(catalogues).items():
        frame = _objects(batches[mart], BOOLEAN_COLUMNS[mart])
        validation = _validate(context, f"invariants_{mart}", suite, frame, as_of)
        failures = [
            {
                "expectation": _expectation_label(outcome.expectation_config),
                "unexpected_count": _unexpected(outcome.expectation_config, dict(outcome.result or {}), frame),
            }
            for outcome in validation.results
            if not outcome.success
        ]
        rows = int(frame["rows"].sum()) if "rows" in frame.columns else len(frame)
        invariants[mart] = InvariantGate(mart=mart, rows=rows, success=not failures, failures=failures)

    docs_index, pages = None, {}
    if build_docs:
        # tonight's validation pages only (and the index): a full build re-renders every night kept
        sites = context.build_data_docs(resource_identifiers=_night_result_ids(context, as_of))
        docs_index = _local_path(sites.get("local_site"))
        if docs_index:
            pages = _validation_pages(Path(docs_index).parent, as_of)
    results = GateResults(
        as_of=str(as_of),
        indicators=gates,
        invariants=invariants,
        data_docs_index=docs_index,
        validation_pages=pages,
    )
    path = results_path(gx_root, as_of)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results.to_json(), encoding="utf-8")
    return results


def _night_result_ids(context, as_of: dt.date) -> list:
    """The identifiers of the night's stored validation results (run name `doisoat-<night>`)."""
    keys = context.validation_results_store.list_keys()
    return [key for key in keys if getattr(key.run_id, "run_name", None) == run_name(as_of)]


def _validation_pages(site: Path, as_of: dt.date) -> dict[str, str]:
    """The latest validation page of the night for each suite, relative to the site folder."""
    pages = {}
    for suite_dir in sorted((site / "validations").glob("*")):
        runs = sorted((suite_dir / run_name(as_of)).glob("*/*.html"))
        if runs:
            pages[suite_dir.name] = str(runs[-1].relative_to(site))
    return pages


def _local_path(url: str | None) -> str | None:
    if not url:
        return None
    return url.removeprefix("file://")


def load_results(gx_root: Path, as_of: dt.date | str) -> GateResults | None:
    """The gates of a night as last run, or None."""
    path = results_path(gx_root, as_of)
    return GateResults.from_json(path.read_text(encoding="utf-8")) if path.exists() else None
