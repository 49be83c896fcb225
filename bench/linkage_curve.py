"""Measure the precision/recall curve of a model against ground truth, choose thresholds, record them in the model.

    python bench/linkage_curve.py --dir data/bench/dense [--model M.json] [--write]

Runs the night's linkage once with every top candidate kept (accept 0.999999, review 0.0011), then for each
threshold t: precision and recall of "link the top candidate when p >= t" over the sector records (recall over
records whose true person is in the master, `link_class = probabilistic`). `accept` is the lowest t >= 0.9
(a record is never linked on a bare majority) with precision >= --min-precision there and above; `review` the
lowest r whose queue (records with a top candidate in [r, accept)) is <= --max-queue of the ID-less records.
With --write the curve and the choice are stored in the model file (`doisoat.thresholds`, `.threshold_curve`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 25)
GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.999)


def measure(warehouse: Path, truth: Path, model: Path) -> tuple[list[dict], int, int]:
    """(curve rows, ID-less records, records in the master) for `model` on a prepared warehouse."""
    import duckdb

    from assets.linkage_model.model import Thresholds, load_model, save_model
    from assets.linkage_model.predict import LINKS_TABLE, REVIEW_TABLE, link_night

    splink_model, _, meta = load_model(model)
    wide = Path(tempfile.mkdtemp(prefix="doisoat-curve-")) / "model.json"
    save_model(splink_model, Thresholds(accept=0.999999, review=0.0011), meta, wide)
    con = duckdb.connect(str(warehouse))
    try:
        result = link_night(con, AS_OF, model_path=wide, holdout_size=0)
        values = ", ".join(f"({t}::double)" for t in GRID)
        rows = con.execute(
            f"""
            with truth as (
                select source, source_record_id, true_personal_id, link_class
                from read_parquet('{truth}') where record_kind = 'record'
            ),
            top as (
                select source, source_record_id, personal_id, match_probability from {LINKS_TABLE}
                union all
                select source, source_record_id, personal_id, match_probability from {REVIEW_TABLE}
                qualify row_number() over (
                    partition by source, source_record_id order by match_probability desc, personal_id
                ) = 1
            ),
            judged as (
                select top.*, top.personal_id = truth.true_personal_id as correct
                from top join truth using (source, source_record_id)
                where truth.link_class not in ('personal_id', 'legacy_id')
            )
            select t.threshold,
                   count(j.personal_id) as links,
                   count(j.personal_id) filter (where j.correct) as correct,
                   count(j.personal_id) filter (where not j.correct) as wrong
            from (values {values}) as t(threshold)
            left join judged as j on j.match_probability >= t.threshold
            group by t.threshold order by t.threshold
            """
        ).fetchall()
        in_master = con.execute(
            f"select count(*) from read_parquet('{truth}') "
            "where record_kind = 'record' and link_class = 'probabilistic'"
        ).fetchone()[0]
    finally:
        con.close()
    curve = [
        {
            "threshold": float(t),
            "links": int(n),
            "precision": (c / n) if n else 1.0,
            "recall": c / in_master if in_master else 1.0,
        }
        for t, n, c, _ in rows
    ]
    return curve, result.residue_rows, in_master


def choose(
    curve: list[dict], residue: int, min_precision: float, max_queue: float, min_accept: float = 0.9
) -> tuple[float, float]:
    """(accept, review) from the curve: see the module's docstring."""
    points = sorted(curve, key=lambda c: c["threshold"])
    ok = [
        c
        for i, c in enumerate(points)
        if c["threshold"] >= min_accept and all(d["precision"] >= min_precision for d in points[i:])
    ]
    accept = min(c["threshold"] for c in ok) if ok else max(c["threshold"] for c in curve)
    at_accept = next(c for c in curve if c["threshold"] == accept)
    review = accept
    for c in sorted(curve, key=lambda c: c["threshold"]):
        if c["threshold"] <= accept and (c["links"] - at_accept["links"]) <= max_queue * residue:
            review = c["threshold"]
            break
    return accept, review


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--min-precision", type=float, default=0.9998)
    parser.add_argument("--max-queue", type=float, default=0.004)
    parser.add_argument("--write", action="store_true", help="store the curve and thresholds in the model file")
    args = parser.parse_args()

    from assets.linkage_model.model import MODEL_PATH, Thresholds, load_model, save_model

    model = args.model or MODEL_PATH
    curve, residue, in_master = measure(args.dir / "warehouse.duckdb", args.dir / "ground_truth.parquet", model)
    accept, review = choose(curve, residue, args.min_precision, args.max_queue)
    for c in curve:
        print(f"t={c['threshold']:<6} links={c['links']:>7} precision={c['precision']:.5f} recall={c['recall']:.5f}")
    print(f"ID-less records {residue}, of them in the master {in_master}; chosen accept {accept}, review {review}")
    if args.write:
        splink_model, _, meta = load_model(model)
        scenario = json.loads((args.dir / "ground_truth.json").read_text()).get("scenario", args.dir.name)
        meta["threshold_curve"] = {
            "measured_on": f"{scenario} (simulator seed 7, ground truth), {dt.date.today().isoformat()}",
            "rule": f"accept: lowest threshold >= 0.9 with precision >= {args.min_precision} there and above; "
            "review: lowest threshold "
            f"leaving a queue <= {args.max_queue:.1%} of the ID-less records",
            "id_less_records": residue,
            "points": curve,
        }
        save_model(splink_model, Thresholds(accept=accept, review=review), meta, model)
        print(f"written to {model}")


if __name__ == "__main__":
    main()
