"""Quality gates: the GX suites of `expectations/gx` over the night's marts, as checks on the marts they check.

Two nodes, both partitioned by night (`assets/partitions.py`), the date taken only from the partition:
* the multi-asset check `gx_checks` validates the night with Great Expectations (small frames aggregated from
  the marts in DuckDB: see expectations/gx), builds the GX Data Docs, records the results for the report and
  reports them as checks on the marts themselves:
  - on `marts/fct_indicators`, one per indicator of `seeds/indicators.csv`: the province rate against the
    target — WARN below target; ERROR when the indicator recomputed from the marts disagrees with
    `fct_indicators` or the mart's numerator exceeds its denominator;
  - on each mart, `gx_invariants`: ERROR when an invariant of that mart breaks.
  Every check is blocking: nothing downstream of a broken mart (the report) is built from it.
* the asset `quality/gx_gates`, downstream of the marts and therefore of their blocking checks, publishes the
  night's recorded gates (counts, the Data Docs link): what the report reads.
Metadata holds rates and counts only: never a name or an ID.
"""

import csv
import datetime as dt

import dagster as dg

from assets.night import NightNotReady, require_usable
from assets.partitions import NIGHTS, ONE_NIGHT_PER_RUN, night_of
from assets.resources import PROJECT_ROOT, WarehouseResource
from expectations.gx.gates import GateResults, IndicatorGate, gx_root_for, load_results, run_gates

GATES_KEY = dg.AssetKey(["quality", "gx_gates"])
MARTS = ("fct_reconciliation", "fct_findings", "fct_indicators")
MART_KEYS = {mart: dg.AssetKey(["marts", mart]) for mart in MARTS}
INDICATORS_KEY = MART_KEYS["fct_indicators"]
INVARIANTS_CHECK = "gx_invariants"
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
    """The indicator codes of the catalogue seed, sorted."""
    with open(PROJECT_ROOT / "seeds" / "indicators.csv", encoding="utf-8") as handle:
        return sorted(row["indicator_code"] for row in csv.DictReader(handle))


INDICATOR_CODES = _catalogue_codes()
# what the gates read besides the marts (all three are built in one dbt step): staging and the catalogues
CHECK_READS = [
    *(dg.AssetKey(["staging", s]) for s in STAGING_READ),
    dg.AssetKey(["reference", "indicators"]),
    dg.AssetKey(["reference", "rules"]),
]

CHECK_SPECS = [
    *(
        dg.AssetCheckSpec(
            name=code,
            asset=INDICATORS_KEY,
            additional_deps=CHECK_READS,
            blocking=True,
            partitions_def=NIGHTS,
            description=f"Indicator {code}: the rate GX observes meets its target (WARN below), and equals "
            "marts.fct_indicators (ERROR otherwise).",
        )
        for code in INDICATOR_CODES
    ),
    *(
        dg.AssetCheckSpec(
            name=INVARIANTS_CHECK,
            asset=MART_KEYS[mart],
            additional_deps=CHECK_READS,
            blocking=True,
            partitions_def=NIGHTS,
            description=f"The invariants of marts.{mart} hold for the night (GX suite invariants_{mart}).",
        )
        for mart in MARTS
    ),
]


def _mart_province_rows(con, as_of: dt.date) -> dict[str, tuple[int, int, float | None]]:
    """(numerator, denominator, rate) of each indicator's province row of the night in fct_indicators."""
    rows = con.execute(
        "select indicator_code, numerator, denominator, rate from marts.fct_indicators"
        " where as_of = ? and scope_level = 'province'",
        [as_of],
    ).fetchall()
    return {code: (int(n), int(d), r) for code, n, d, r in rows}


def _communes_below(con, as_of: dt.date) -> dict[str, int]:
    """Communes below target of each indicator, the night's commune rows of fct_indicators."""
    return dict(
        con.execute(
            "select indicator_code, count(*) from marts.fct_indicators"
            " where as_of = ? and scope_level = 'commune' and not meets_target group by 1",
            [as_of],
        ).fetchall()
    )


def _rates_agree(gate: IndicatorGate, mart: tuple[int, int, float | None]) -> bool:
    """GX's observation equals the mart's row (counts exactly, rates to RATE_TOLERANCE)."""
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
            asset_key=INDICATORS_KEY,
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
        asset_key=INDICATORS_KEY,
        passed=not (broken or below),
        severity=dg.AssetCheckSeverity.ERROR if broken else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def invariant_check(mart: str, results: GateResults | None) -> dg.AssetCheckResult:
    """The `gx_invariants` check of one mart: ERROR with the failed expectations and their row counts."""
    invariant = results.invariants.get(mart) if results else None
    failures = invariant.failures if invariant else [{"expectation": "suite did not run", "unexpected_count": 0}]
    metadata = {
        "rows": dg.MetadataValue.int(invariant.rows if invariant else 0),
        "failed_expectations": dg.MetadataValue.int(len(failures)),
    }
    for number, failure in enumerate(failures, start=1):
        metadata[f"failure_{number}"] = dg.MetadataValue.text(
            f"{failure['expectation']}: {failure['unexpected_count']} rows"
        )
    return dg.AssetCheckResult(
        check_name=INVARIANTS_CHECK,
        asset_key=MART_KEYS[mart],
        passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def check_results(results: GateResults | None, mart_rows: dict, communes_below: dict[str, int]) -> list:
    """Every check of CHECK_SPECS from one night's recorded gate results (None: the gates did not run)."""
    indicators = results.indicators if results else {}
    checks = [
        indicator_check(code, indicators.get(code), mart_rows.get(code), communes_below.get(code, 0))
        for code in INDICATOR_CODES
    ]
    return checks + [invariant_check(mart, results) for mart in MARTS]


def _read_only(warehouse: WarehouseResource):
    """A read-only DuckDB connection to the warehouse."""
    import duckdb

    return duckdb.connect(str(warehouse.resolved_path()), read_only=True)


@dg.multi_asset_check(
    name="gx_checks",
    specs=CHECK_SPECS,
    description="Great Expectations over the night's marts, as checks on the marts they check; records the "
    "results and builds the GX Data Docs.",
)
def gx_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """Validate the night's marts with GX: one check per indicator on fct_indicators, one invariants check per mart."""
    as_of = night_of(context)
    with _read_only(warehouse) as con:
        try:
            require_usable(con, as_of)  # a night killed or failed before its marts were whole is not gated
        except NightNotReady as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        results = run_gates(con, as_of, gx_root_for(warehouse.resolved_path()))
        mart_rows = _mart_province_rows(con, as_of)
        communes_below = _communes_below(con, as_of)
    below = sum(1 for g in results.indicators.values() if g.rate is not None and not g.success)
    broken = sum(not i.success for i in results.invariants.values())
    context.log.info(
        f"GX gates for {as_of}: {len(results.indicators)} indicators, {below} below target, "
        f"{broken} mart(s) with a broken invariant"
    )
    yield from check_results(results, mart_rows, communes_below)


@dg.asset(
    key=GATES_KEY,
    group_name="quality",
    partitions_def=NIGHTS,
    backfill_policy=ONE_NIGHT_PER_RUN,
    deps=list(MART_KEYS.values()),
    kinds={"great_expectations"},
    description="The night's GX gates as recorded by the checks on the marts (gx_checks): counts and the GX "
    "Data Docs, for the report. Built only when no blocking check of a mart failed.",
)
def gx_gates(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Publish the night's recorded gates (gx_checks ran GX just before, in this run)."""
    as_of = night_of(context)
    results = load_results(gx_root_for(warehouse.resolved_path()), as_of)
    if results is None:
        message = f"no GX gates recorded for {as_of}: run the night's gx_checks"
        raise dg.Failure(description=message, allow_retries=False)
    below = sum(1 for g in results.indicators.values() if g.rate is not None and not g.success)
    metadata = {
        "as_of": dg.MetadataValue.text(as_of.isoformat()),
        "indicators_gated": dg.MetadataValue.int(len(results.indicators)),
        "indicators_below_target": dg.MetadataValue.int(below),
        "marts_with_broken_invariants": dg.MetadataValue.int(sum(not i.success for i in results.invariants.values())),
    }
    if results.data_docs_index:
        metadata["data_docs"] = dg.MetadataValue.path(results.data_docs_index)
    return dg.MaterializeResult(metadata=metadata)
