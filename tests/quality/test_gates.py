"""The GX quality gates: the rates GX observes equal marts.fct_indicators; broken invariants are ERRORs."""

import datetime as dt
import shutil

import dagster as dg
import duckdb
import pytest

from assets.quality import CHECK_SPECS, INDICATOR_CODES, INDICATORS_KEY, INVARIANTS_CHECK, MART_KEYS, check_results
from expectations.gx.gates import gx_root_for, load_results, run_gates


def _province_rows(warehouse, as_of):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select indicator_code, numerator, denominator, rate, meets_target from marts.fct_indicators"
            " where as_of = ? and scope_level = 'province'",
            [as_of],
        ).fetchall()
    finally:
        con.close()
    return {code: (numerator, denominator, rate, meets) for code, numerator, denominator, rate, meets in rows}


def _checks(results, mart) -> dict:
    """The check results by (mart, check name): indicator checks sit on fct_indicators, invariants on each mart."""
    return {(c.asset_key.path[-1], c.check_name): c for c in check_results(results, mart, {})}


def _run(warehouse, as_of, gx_root):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return run_gates(con, as_of, gx_root, build_docs=False)
    finally:
        con.close()


def assert_gates_equal_indicators(results, mart):
    assert set(results.indicators) == set(mart), "GX gates every indicator of fct_indicators, and only those"
    for code, gate in results.indicators.items():
        numerator, denominator, rate, meets = mart[code]
        assert (gate.numerator, gate.denominator) == (numerator, denominator), code
        if rate is None:
            assert gate.rate is None, code
        else:
            assert gate.rate == pytest.approx(rate, abs=1e-9), code
            assert gate.success == bool(meets), code


def test_gx_rates_equal_fct_indicators_on_scratch(scratch_warehouse, tmp_path):
    warehouse, as_of = scratch_warehouse
    results = _run(warehouse, as_of, tmp_path / "gx")
    assert_gates_equal_indicators(results, _province_rows(warehouse, as_of))
    assert all(inv.success for inv in results.invariants.values())
    assert load_results(tmp_path / "gx", as_of).indicators.keys() == results.indicators.keys()


def test_gx_rates_equal_fct_indicators_on_tiny_night(tiny_night):
    """The real thing: the night the nightly job ran (the gates asset already ran GX there)."""
    from tests.support import AS_OF

    recorded = load_results(gx_root_for(tiny_night), AS_OF)
    assert recorded is not None, "the nightly job's quality/gx_gates asset recorded its results"
    mart = _province_rows(tiny_night, AS_OF)
    assert_gates_equal_indicators(recorded, mart)
    assert all(inv.success for inv in recorded.invariants.values()), [
        (inv.mart, inv.failures) for inv in recorded.invariants.values() if not inv.success
    ]
    docs = gx_root_for(tiny_night) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert docs.exists(), "GX Data Docs are built"


def test_every_check_is_reported_and_below_target_is_warn(scratch_warehouse, tmp_path):
    warehouse, as_of = scratch_warehouse
    results = _run(warehouse, as_of, tmp_path / "gx")
    mart = {code: row[:3] for code, row in _province_rows(warehouse, as_of).items()}
    checks = _checks(results, mart)
    assert set(checks) == {(spec.asset_key.path[-1], spec.name) for spec in CHECK_SPECS}
    assert {spec.asset_key for spec in CHECK_SPECS if spec.name in INDICATOR_CODES} == {INDICATORS_KEY}
    assert {spec.asset_key for spec in CHECK_SPECS if spec.name == INVARIANTS_CHECK} == set(MART_KEYS.values())
    for code in INDICATOR_CODES:
        check = checks["fct_indicators", code]
        gate = results.indicators[code]
        assert check.passed == gate.success
        assert check.severity == dg.AssetCheckSeverity.WARN
        assert check.metadata["observed_rate"].value == pytest.approx(gate.rate)
        assert check.metadata["target"].value == gate.target
        assert check.metadata["numerator"].value == gate.numerator
        assert check.metadata["denominator"].value == gate.denominator


def test_numerator_above_denominator_is_an_error(scratch_warehouse, tmp_path):
    source, as_of = scratch_warehouse
    warehouse = tmp_path / "broken.duckdb"
    shutil.copyfile(source, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "update marts.fct_indicators set numerator = denominator + 1"
        " where indicator_code = 'civil_digitised' and as_of = ?",
        [as_of],
    )
    con.close()
    results = _run(warehouse, as_of, tmp_path / "gx")
    invariant = results.invariants["fct_indicators"]
    assert not invariant.success
    assert any("expect_column_pair_values_a_to_be_greater_than_b" in f["expectation"] for f in invariant.failures)
    mart = {code: row[:3] for code, row in _province_rows(warehouse, as_of).items()}
    checks = _checks(results, mart)
    assert not checks["fct_indicators", "civil_digitised"].passed
    assert checks["fct_indicators", "civil_digitised"].severity == dg.AssetCheckSeverity.ERROR
    assert not checks["fct_indicators", INVARIANTS_CHECK].passed
    assert checks["fct_indicators", INVARIANTS_CHECK].severity == dg.AssetCheckSeverity.ERROR
    assert checks["fct_findings", INVARIANTS_CHECK].passed
    assert checks["fct_indicators", "vaccination_clean"].severity == dg.AssetCheckSeverity.WARN  # others unaffected


def _mart_stubs():
    """Stand-ins for the dbt marts (already in the scratch warehouse), partitioned like the night."""
    from assets.partitions import NIGHTS
    from assets.quality import MART_KEYS

    @dg.multi_asset(specs=[dg.AssetSpec(key) for key in MART_KEYS.values()], partitions_def=NIGHTS)
    def marts():
        for key in MART_KEYS.values():
            yield dg.MaterializeResult(asset_key=key)

    return marts


def test_gates_run_in_dagster_as_checks_on_the_marts(scratch_warehouse, tmp_path):
    """Partitioned by night: the gates asset records GX's results, the checks land on the marts they check."""
    from assets.quality import GATES_KEY, gx_checks, gx_gates
    from assets.resources import WarehouseResource

    source, as_of = scratch_warehouse
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(source, warehouse)
    result = dg.materialize(
        [_mart_stubs(), gx_gates, gx_checks],
        partition_key=as_of.isoformat(),
        resources={"warehouse": WarehouseResource(path=str(warehouse))},
    )
    assert result.success
    assert GATES_KEY in {e.asset_key for e in result.get_asset_materialization_events()}
    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key, e.check_name) for e in evaluations} == {(s.asset_key, s.name) for s in CHECK_SPECS}
    assert all(e.passed for e in evaluations if e.check_name == INVARIANTS_CHECK)
    assert (tmp_path / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()
    assert load_results(tmp_path / "gx", as_of) is not None
    assert isinstance(as_of, dt.date)


def test_broken_marts_are_errors_found_from_aggregates(scratch_warehouse, tmp_path):
    """A repeated reconciliation row, and a commune row that disagrees with the marts: both caught, as ERRORs."""
    from expectations.gx.units import read_indicators, read_invariant_batches, read_recomputed

    source, as_of = scratch_warehouse
    warehouse = tmp_path / "broken.duckdb"
    shutil.copyfile(source, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into marts.fct_reconciliation select * from marts.fct_reconciliation"
        " where as_of = ? and source = 'social' limit 1",
        [as_of],
    )
    con.execute(
        "update marts.fct_indicators set numerator = numerator - 1, rate = 100.0 * (numerator - 1) / denominator,"
        " meets_target = 100.0 * (numerator - 1) / denominator >= target"
        " where as_of = ? and indicator_code = 'children_du' and scope_level = 'commune' and numerator > 0"
        " and scope_code = (select min(scope_code) from marts.fct_indicators where as_of = ?"
        " and indicator_code = 'children_du' and scope_level = 'commune' and numerator > 0)",
        [as_of, as_of],
    )
    recomputed = read_recomputed(con, as_of, read_indicators(con))
    batches = read_invariant_batches(con, as_of, recomputed)
    marts_rows = {
        mart: con.execute(f"select count(*) from marts.{mart} where as_of = ?", [as_of]).fetchone()[0]
        for mart in ("fct_reconciliation", "fct_findings")
    }
    con.close()
    for mart, rows in marts_rows.items():  # GX sees per-group counts, not the mart's rows
        assert len(batches[mart]) < rows
        assert int(batches[mart]["rows"].sum()) == rows
    results = _run(warehouse, as_of, tmp_path / "gx")
    reconciliation = results.invariants["fct_reconciliation"]
    assert not reconciliation.success
    assert [f["unexpected_count"] for f in reconciliation.failures if "duplicate_rows" in f["expectation"]] == [2]
    indicators = results.invariants["fct_indicators"]
    assert not indicators.success
    disagree = batches["fct_indicators"][~batches["fct_indicators"]["agrees_with_marts"]]
    children = disagree[disagree["indicator_code"] == "children_du"]
    assert children["scope_level"].tolist() == ["commune"]  # the edited row; the repeated social row moves social's
    assert [f["unexpected_count"] for f in indicators.failures if "agrees_with_marts" in f["expectation"]] == [
        len(disagree)
    ]
    assert results.invariants["fct_findings"].success
    mart = {code: row[:3] for code, row in _province_rows(warehouse, as_of).items()}
    checks = _checks(results, mart)
    for name in ("fct_reconciliation", "fct_indicators"):
        assert not checks[name, INVARIANTS_CHECK].passed
        assert checks[name, INVARIANTS_CHECK].severity == dg.AssetCheckSeverity.ERROR
    # the province row still agrees
    assert checks["fct_indicators", "children_du"].severity == dg.AssetCheckSeverity.WARN
