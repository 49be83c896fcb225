"""Quality gates: the GX suites of `expectations/gx` over the night's marts, as Dagster asset checks.

One asset, `quality/gx_gates`, downstream of the marts: it validates the night with Great Expectations
(small frames aggregated from the marts in DuckDB: see expectations/gx), builds the GX Data Docs and records
the results for the report. Its checks:
* one per indicator of `seeds/indicators.csv`: the province rate of `marts.fct_indicators` against the
  target — WARN below target; ERROR when the indicator recomputed from the marts disagrees with
  `fct_indicators` or the mart's numerator exceeds its denominator;
* one per mart (`invariants_<mart>`): ERROR when an invariant breaks (a blocking check: the report is not
  published from broken marts).
Metadata holds rates and counts only: never a name or an ID.
"""

import csv
import datetime as dt

import dagster as dg

from assets.night import NightNotReady, require_usable
from assets.partitions import NIGHTS, ONE_NIGHT_PER_RUN, night_of
from assets.resources import PROJECT_ROOT, WarehouseResource
from expectations.gx.gates import GateResults, IndicatorGate, gx_root_for, run_gates

GATES_KEY = dg.AssetKey(["quality", "gx_gates"])
MARTS = ("fct_reconciliation", "fct_findings", "fct_indicators")
STAGING_READ = (
    "stg_population__citizen",
    "stg_vaccination__doi_tuong",
    "stg_vaccination__ho_chieu_vac_xin",
    "stg_social__beneficiary",
    "stg_civil__ho_tich",
    "stg_children__tre_em",
)
RATE_TOLERANCE = 1e-9


def _catalogue_codes() -> list[str]:
    with open(PROJECT_ROOT / "seeds" / "indicators.csv", encoding="utf-8") as handle:
        return sorted(row["indicator_code"] for row in csv.DictReader(handle))


INDICATOR_CODES = _catalogue_codes()

CHECK_SPECS = [
    *(
        dg.AssetCheckSpec(
            name=code,
            asset=GATES_KEY,
            blocking=True,
            description=f"Indicator {code}: the rate GX observes meets its target (WARN below), and equals "
            "marts.fct_indicators (ERROR otherwise).",
        )
        for code in INDICATOR_CODES
    ),
    *(
        dg.AssetCheckSpec(
            name=f"invariants_{mart}",
            asset=GATES_KEY,
            blocking=True,
            description=f"The invariants of marts.{mart} hold for the night (GX suite invariants_{mart}).",
        )
        for mart in MARTS
    ),
]


def _mart_province_rows(con, as_of: dt.date) -> dict[str, tuple[int, int, float | None]]:
    rows = con.execute(
        "select indicator_code, numerator, denominator, rate from marts.fct_indicators"
        " where as_of = ? and scope_level = 'province'",
        [as_of],
    ).fetchall()
    return {code: (int(n), int(d), r) for code, n, d, r in rows}


def _rates_agree(gate: IndicatorGate, mart: tuple[int, int, float | None]) -> bool:
    numerator, denominator, rate = mart
    if (gate.numerator, gate.denominator) != (numerator, denominator):
        return False
    if gate.rate is None or rate is None:
        return gate.rate is None and rate is None
    return abs(gate.rate - rate) <= RATE_TOLERANCE


def indicator_check(
    code: str, gate: IndicatorGate | None, mart: tuple[int, int, float | None] | None, communes_below: int
) -> dg.AssetCheckResult:
    """The check result of one indicator: GX's observation against the target and against fct_indicators."""
    if gate is None or mart is None:
        return dg.AssetCheckResult(
            check_name=code,
            asset_key=GATES_KEY,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"problem": "no GX observation" if gate is None else "no province row in fct_indicators"},
        )
    numerator, denominator, mart_rate = mart
    broken = numerator > denominator or not _rates_agree(gate, mart)
    below = gate.rate is not None and not gate.success
    metadata = {
        "observed_rate": dg.MetadataValue.float(gate.rate) if gate.rate is not None else dg.MetadataValue.null(),
        "target": dg.MetadataValue.float(gate.target),
        "numerator": dg.MetadataValue.int(gate.numerator),
        "denominator": dg.MetadataValue.int(gate.denominator),
        "fct_indicators_rate": (
            dg.MetadataValue.float(mart_rate) if mart_rate is not None else dg.MetadataValue.null()
        ),
        "fct_indicators_numerator": dg.MetadataValue.int(numerator),
        "fct_indicators_denominator": dg.MetadataValue.int(denominator),
        "communes_below_target": dg.MetadataValue.int(communes_below),
    }
    if broken:
        metadata["problem"] = dg.MetadataValue.text(
            "numerator above denominator in fct_indicators"
            if numerator > denominator
            else "GX and fct_indicators disagree"
        )
    return dg.AssetCheckResult(
        check_name=code,
        asset_key=GATES_KEY,
        passed=not (broken or below),
        severity=dg.AssetCheckSeverity.ERROR if broken else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def check_results(results: GateResults, mart_rows: dict, communes_below: dict[str, int]) -> list:
    """Every check of CHECK_SPECS from one night's gate results."""
    checks = [
        indicator_check(code, results.indicators.get(code), mart_rows.get(code), communes_below.get(code, 0))
        for code in INDICATOR_CODES
    ]
    for mart in MARTS:
        invariant = results.invariants.get(mart)
        failures = invariant.failures if invariant else [{"expectation": "suite did not run", "unexpected_count": 0}]
        metadata = {
            "rows": dg.MetadataValue.int(invariant.rows if invariant else 0),
            "failed_expectations": dg.MetadataValue.int(len(failures)),
        }
        for number, failure in enumerate(failures, start=1):
            metadata[f"failure_{number}"] = dg.MetadataValue.text(
                f"{failure['expectation']}: {failure['unexpected_count']} rows"
            )
        checks.append(
            dg.AssetCheckResult(
                check_name=f"invariants_{mart}",
                asset_key=GATES_KEY,
                passed=not failures,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=metadata,
            )
        )
    return checks


@dg.asset(
    key=GATES_KEY,
    group_name="quality",
    deps=[dg.AssetKey(["marts", m]) for m in MARTS]
    + [dg.AssetKey(["staging", s]) for s in STAGING_READ]
    + [dg.AssetKey(["reference", "indicators"]), dg.AssetKey(["reference", "rules"])],
    check_specs=CHECK_SPECS,
    kinds={"great_expectations", "duckdb"},
    partitions_def=NIGHTS,
    backfill_policy=ONE_NIGHT_PER_RUN,
    description="Great Expectations gates over the night's marts: indicator rates against targets, mart "
    "invariants; builds the GX Data Docs.",
)
def gx_gates(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Validate the night's marts with GX and report every gate as an asset check."""
    import duckdb

    as_of = night_of(context)
    path = warehouse.resolved_path()
    con = duckdb.connect(str(path), read_only=True)
    try:
        try:
            require_usable(con, as_of)  # a night killed or failed before its marts were whole is not gated
        except NightNotReady as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        results = run_gates(con, as_of, gx_root_for(path))
        mart_rows = _mart_province_rows(con, as_of)
        communes_below = dict(
            con.execute(
                "select indicator_code, count(*) from marts.fct_indicators"
                " where as_of = ? and scope_level = 'commune' and not meets_target group by 1",
                [as_of],
            ).fetchall()
        )
    finally:
        con.close()
    checks = check_results(results, mart_rows, communes_below)
    below = sum(1 for g in results.indicators.values() if g.rate is not None and not g.success)
    context.log.info(
        f"GX gates for {as_of}: {len(results.indicators)} indicators, {below} below target, "
        f"{sum(not i.success for i in results.invariants.values())} mart(s) with a broken invariant"
    )
    metadata = {
        "as_of": dg.MetadataValue.text(as_of.isoformat()),
        "indicators_gated": dg.MetadataValue.int(len(results.indicators)),
        "indicators_below_target": dg.MetadataValue.int(below),
        "marts_with_broken_invariants": dg.MetadataValue.int(sum(not i.success for i in results.invariants.values())),
    }
    if results.data_docs_index:
        metadata["data_docs"] = dg.MetadataValue.path(results.data_docs_index)
    return dg.MaterializeResult(metadata=metadata, check_results=checks)
