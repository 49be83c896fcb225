"""Calibration to exact figures: exact counts of records with and without a defect, not Bernoulli draws.

Used only by scenarios with `figures` (config.Figures). Each sector builder first draws its defects at the usual
rates; this module then moves the fewest records needed so that the ground truth (truth.sector_masks, the same
code that writes `ground_truth.parquet`) yields the figure exactly:
* reconciled counts: reconciled records get one attribute defect (name typo, wrong birth date or sex, in
  proportion to their rates), or, when there are too few reconciled, records whose attribute defect is what
  keeps them from reconciling lose it;
* `children_with_id_code`: reconciled child records swap between carrying their ID code and carrying none
  (both stay reconciled: a missing ID is a `du` finding and the record is still linked, probabilistically).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .records import Ctx, record_dates, render_names, render_sex
from .truth import blocking_rules, reconciled_from_masks, sector_masks
from .util import isin

TOP_UP = (("typo", "name_typo"), ("dobwrong", "birth_date_wrong"), ("sexwrong", "sex_wrong"))
REVERTIBLE = ("typo", "dobwrong", "sexwrong", "name_null", "dob_null", "sex_null", "date_invalid", "unacc")
MAX_ROUNDS = 10


class CalibrationError(ValueError):
    """A figure cannot be reached from the simulated population (the message names the figure)."""


def reconciled(ctx: Ctx, f: pd.DataFrame, source: str) -> np.ndarray:
    """Reconciled records of a source frame under perfect linkage, exactly as the ground truth says."""
    masks, _ = sector_masks(source, f, ctx.people, ctx.n_master, ctx.geo, ctx.as_of)
    return reconciled_from_masks(masks["perfect"], blocking_rules())


def choose(ctx: Ctx, candidates: np.ndarray, k: int, what: str) -> np.ndarray:
    """Exactly k of the candidate positions, at random; CalibrationError when there are fewer."""
    candidates = np.flatnonzero(candidates) if candidates.dtype == bool else candidates
    if k > candidates.size:
        raise CalibrationError(f"calibration: {what} needs {k:,} records, only {candidates.size:,} qualify")
    return np.sort(ctx.rng.choice(candidates, size=k, replace=False)) if k > 0 else np.zeros(0, dtype="int64")


def _set_column(f: pd.DataFrame, column: str, rows: np.ndarray, values) -> None:
    col = f[column].to_numpy().copy()
    col[rows] = values
    f[column] = col


def set_attr(ctx: Ctx, f: pd.DataFrame, rows: np.ndarray, kinds: np.ndarray, source: str) -> None:
    """Give records `rows` the attribute defects `kinds` (or "none") and render name, birth date and sex again."""
    pi = f["pi"].to_numpy()[rows]
    kinds = np.asarray(kinds, dtype=object)
    _set_column(f, "attr", rows, kinds)
    _set_column(f, "name_text", rows, render_names(ctx, pi, kinds, source))
    state, dob = record_dates(ctx, pi, kinds)
    _set_column(f, "dob_state", rows, state)
    _set_column(f, "dob", rows, dob)
    _set_column(f, "sex", rows, render_sex(ctx, pi, kinds))


def calibrate_reconciled(ctx: Ctx, f: pd.DataFrame, source: str, target: int) -> None:
    """Move attribute defects until exactly `target` records of the source are reconciled."""
    p = ctx.people
    for _ in range(MAX_ROUNDS):
        ok = reconciled(ctx, f, source)
        surplus = int(ok.sum()) - target
        if surplus == 0:
            return
        pi = f["pi"].to_numpy()
        in_master = pi < ctx.n_master
        pm = np.where(in_master, pi, 0)
        attr = f["attr"].to_numpy()
        if surplus > 0:
            full_master = pd.notna(p["m_bstr"].to_numpy()[pm]) & pd.notna(p["m_sex"].to_numpy()[pm])
            cand = (
                ok
                & in_master
                & (attr == "none")
                & isin(f["id_kind"].to_numpy(), ["pid", "legacy"])
                & (f["dob_state"].to_numpy() == "ok")
                & pd.notna(f["sex"].to_numpy())
                & full_master
            )
            rows = choose(ctx, cand, surplus, f"{source}: records to get a defect")
            weights = np.array([ctx.rates[key] for _, key in TOP_UP], dtype=float)
            weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(TOP_UP), 1 / len(TOP_UP))
            kinds = np.array([k for k, _ in TOP_UP], dtype=object)[ctx.rng.choice(len(TOP_UP), rows.size, p=weights)]
            set_attr(ctx, f, rows, kinds, source)
        else:
            cand = np.flatnonzero(~ok & in_master & isin(attr, list(REVERTIBLE)))
            if cand.size == 0:
                raise CalibrationError(f"calibration: {source} cannot reach {target:,} reconciled records")
            rows = choose(ctx, cand, min(-surplus, cand.size), f"{source}: records to lose a defect")
            set_attr(ctx, f, rows, np.full(rows.size, "none", dtype=object), source)
    raise CalibrationError(f"calibration: {source} reconciled count did not converge to {target:,}")


def calibrate_id_code(ctx: Ctx, f: pd.DataFrame, target: int) -> None:
    """Exactly `target` reconciled child records carry their own ID code (the rest of the reconciled none)."""
    ok = reconciled(ctx, f, "children")
    kind = f["id_kind"].to_numpy()
    pi = f["pi"].to_numpy()
    with_code = ok & (kind == "pid")
    surplus = int(with_code.sum()) - target
    if surplus > 0:
        rows = choose(ctx, with_code, surplus, "children_with_id_code: reconciled records to lose their ID")
        _set_column(f, "id_kind", rows, "missing")
        _set_column(f, "id_text", rows, None)
        _set_column(f, "id12", rows, None)
        _set_column(f, "link_class", rows, "probabilistic")
    elif surplus < 0:
        cand = ok & (kind == "missing") & (pi < ctx.n_master)
        rows = choose(ctx, cand, -surplus, "children_with_id_code: reconciled records to get their ID")
        pid = ctx.people["pid"].to_numpy()[pi[rows]]
        _set_column(f, "id_kind", rows, "pid")
        _set_column(f, "id_text", rows, pid)
        _set_column(f, "id12", rows, pid)
        _set_column(f, "link_class", rows, "personal_id")
    after = reconciled(ctx, f, "children")
    if int(after.sum()) != int(ok.sum()) or int((after & (f["id_kind"].to_numpy() == "pid")).sum()) != target:
        raise CalibrationError("calibration: children_with_id_code moved the reconciled count")
