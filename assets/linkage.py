"""The probabilistic linkage (Splink on DuckDB): links sector records that carry no usable ID to the master.

Sits between the two dbt layers: reads the staging views, writes `intermediate.linkage_probabilistic` (links
above the accept threshold, and pairs a steward accepted), `intermediate.linkage_review` (pairs between the
review and accept thresholds, with their evidence; `marts.fct_review_queue` publishes it) and keeps
`decisions.review_decisions` (created if missing, never dropped). The queue is also written as one workbook
per commune under `<warehouse folder>/review/<as_of>/` for stewards (see `linkage_model/review.py`).
The model and its thresholds are the committed file `assets/linkage_model/model.json`; `train_model` retrains it.
"""

import os
import tempfile
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from assets.ingest import FULL_REFRESH_TAG
from assets.linkage_model.model import MODEL_PATH, Thresholds, load_model, save_model, train_model
from assets.linkage_model.predict import link_night, record_decision
from assets.partitions import NIGHTS, ONE_NIGHT_PER_RUN, night_of
from assets.resources import WarehouseResource

__all__ = ["linkage_probabilistic", "train_model", "record_decision", "LinkageConfig"]

STAGING_DEPS = [
    dg.AssetKey(["staging", name])
    for name in (
        "stg_population__citizen",
        "stg_vaccination__doi_tuong",
        "stg_social__beneficiary",
        "stg_civil__ho_tich",
        "stg_children__tre_em",
    )
]


class LinkageConfig(dg.Config):
    """Run-time overrides; by default the model file's own thresholds apply."""

    accept: float | None = None
    review: float | None = None
    holdout_size: int = 5000
    # compute tonight's own night-wide parameters (term frequencies, λ, commune u) and rescore every pair,
    # instead of the frozen ones of the last committed night (refreshed anyway when they drift beyond tolerance)
    refresh_parameters: bool = False


def model_path() -> Path:
    """The model file: `DOISOAT_LINKAGE_MODEL`, or the one committed with the project."""
    return Path(os.environ.get("DOISOAT_LINKAGE_MODEL") or MODEL_PATH)


@dg.asset(
    key=["intermediate", "linkage_probabilistic"],
    group_name="intermediate",
    deps=STAGING_DEPS,
    kinds={"duckdb", "python", "splink"},
    partitions_def=NIGHTS,
    backfill_policy=ONE_NIGHT_PER_RUN,
    description="Splink links for sector records without a usable ID (above the accept threshold), "
    "the review queue between the thresholds, and stewards' decisions applied.",
)
def linkage_probabilistic(
    context: AssetExecutionContext, config: LinkageConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    as_of = night_of(context)
    path = model_path()
    if config.accept is not None or config.review is not None:
        splink_model, thresholds, meta = load_model(path)
        thresholds = Thresholds(
            accept=config.accept if config.accept is not None else thresholds.accept,
            review=config.review if config.review is not None else thresholds.review,
        )
        path = Path(tempfile.mkdtemp(prefix="doisoat-linkage-")) / "model.json"
        save_model(splink_model, thresholds, {k: v for k, v in meta.items() if k != "thresholds"}, path)
    reports = warehouse.resolved_path().parent / "reports" / as_of.isoformat() / "linkage"
    # the review workbooks carry names (the steward is entitled): apart from the masked report
    review = warehouse.resolved_path().parent / "review" / as_of.isoformat()
    # a full refresh of the sources rescores every pair, with the night-wide parameters chosen as usual
    rescore_all = context.run.tags.get(FULL_REFRESH_TAG, "").lower() == "true"
    con = warehouse.connect()
    try:
        result = link_night(
            con,
            as_of,
            model_path=path,
            holdout_size=config.holdout_size,
            reports_dir=reports,
            review_dir=review,
            run_id=context.run_id,
            refresh_parameters=config.refresh_parameters,
            rescore_all=rescore_all,
        )
    finally:
        con.close()
    context.log.info(
        f"linkage {as_of}: {result.residue_rows} records without a usable ID, {result.links_made} linked, "
        f"{result.review_queue_pairs} pairs to review; {sum(result.seconds.values()):.1f}s"
    )
    if result.memory_cap_exceeded:
        context.log.warning(
            f"linkage {as_of}: ran out of memory under DuckDB's cap for the linkage; linked again without it"
        )
    context.log.info(
        f"linkage {as_of}: {'incremental from night ' + result.base_as_of if result.incremental else 'full'}"
        f" ({result.records_changed} records and {result.master_changed} master rows changed,"
        f" {result.pairs_kept} pairs kept, {result.pairs_scored} scored); parameters: {result.parameters_reason}"
    )
    metadata: dict[str, object] = {
        "as_of": as_of.isoformat(),
        "master_rows": result.master_rows,
        "residue_rows": result.residue_rows,
        "candidate_pairs": result.candidate_pairs,
        "links_made": result.links_made,
        "links_from_model": result.links_from_model,
        "links_from_review": result.links_from_review,
        "review_queue_pairs": result.review_queue_pairs,
        "review_queue_records": result.review_queue_records,
        "rejected_pairs_excluded": result.rejected_pairs_excluded,
        "decisions_shown_again": result.decisions_shown_again,
        "linkage_mode": "incremental" if result.incremental else "full",
        "base_night": result.base_as_of or None,
        "records_changed": result.records_changed,
        "master_changed": result.master_changed,
        "pairs_kept": result.pairs_kept,
        "pairs_scored": result.pairs_scored,
        "parameters_refreshed": result.parameters_refreshed,
        "memory_cap_exceeded": result.memory_cap_exceeded,
        "parameters": result.parameters_reason,
        "review_workbooks": len(result.review_workbooks),
        "review_folder": dg.MetadataValue.path(str(review)),
        "link_rate": round(result.links_made / result.residue_rows, 6) if result.residue_rows else 0.0,
        "threshold_accept": result.thresholds.accept,
        "threshold_review": result.thresholds.review,
        "seconds": round(sum(result.seconds.values()), 3),
        **{f"seconds_{k}": round(v, 3) for k, v in result.seconds.items()},
    }
    if result.holdout.get("records"):
        metadata.update(
            {
                "holdout_records": result.holdout["records"],
                "holdout_precision_at_accept": round(result.holdout["precision_at_accept"], 6),
                "holdout_recall_at_accept": round(result.holdout["recall_at_accept"], 6),
                "holdout_review_share": round(result.holdout["review_share"], 6),
                "holdout_measured_on": result.holdout_as_of,
            }
        )
    # the presence evidence's duplicate share per kind of record, the corroboration's bits per source (numbers)
    metadata.update(
        {f"duplicate_share_{kind.replace('/', '_').lower()}": d for kind, d in result.duplicate_share.items()}
    )
    metadata.update({f"corroboration_bits_{source}": bits for source, bits in result.corroboration_bits.items()})
    for chart in result.charts:
        metadata[f"chart_{Path(chart).stem}"] = dg.MetadataValue.path(chart)
    return dg.MaterializeResult(metadata=metadata)
