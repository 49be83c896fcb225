"""Write-back files: per night and source, the 12-digit IDs to import, in the sector's own column names.

OUTPUTS.md: `marts.fct_enrichment` is exported per source as a file the sector can import. One CSV per source,
`<warehouse folder>/writeback/<as_of>/<source>.csv` (UTF-8, header, IDs as text): the record key and the ID
column under the source's own names (SOURCES.md), then `match_method` and `match_probability`. Only links at or
above the accept threshold, or accepted by a steward (probability 1.0), and deterministic links. The files are
unmasked (a sector cannot import a masked ID), so they are written apart from the masked report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.linkage_model.model import load_model
from assets.partitions import NIGHTS, ONE_NIGHT_PER_RUN, night_of
from assets.resources import WarehouseResource
from assets.retention import keep_nights_setting, remove_old_night_folders

WRITEBACK_KEY = dg.AssetKey(["writeback", "enrichment_files"])

# source -> (record key column, ID column), as the source systems name them (SOURCES.md)
SECTOR_COLUMNS: dict[str, tuple[str, str]] = {
    "vaccination": ("ma_doi_tuong", "so_giay_to"),
    "social": ("BENEFICIARY_ID", "ID_NUMBER"),
    "civil": ("id", "so_dinh_danh"),
    "children": ("ma_tre", "ma_dinh_danh"),
}


def writeback_dir(warehouse: Path, as_of: dt.date) -> Path:
    """The night's folder of write-back files, beside the warehouse (apart from `reports/`)."""
    return warehouse.parent / "writeback" / as_of.isoformat()


def write_files(con, as_of: dt.date, out_dir: Path, accept: float) -> dict[str, int]:
    """One CSV per source from tonight's `marts.fct_enrichment`; returns the rows written per source."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for source, (key, id_column) in SECTOR_COLUMNS.items():
        path = out_dir / f"{source}.csv"
        query = f"""
            select
                source_record_id as "{key}",
                proposed_personal_id as "{id_column}",
                match_method,
                match_probability
            from marts.fct_enrichment
            where as_of = date '{as_of.isoformat()}'
                and source = '{source}'
                and (match_method <> 'probabilistic' or match_probability >= {float(accept)})
            order by source_record_id
        """
        con.execute(f"copy ({query}) to '{path}' (header, delimiter ',', quote '\"', force_quote *)")
        counts[source] = con.execute(f"select count(*) from ({query})").fetchone()[0]
    return counts


@dg.asset(
    key=WRITEBACK_KEY,
    group_name="report",
    deps=[dg.AssetKey(["marts", "fct_enrichment"])],
    kinds={"csv"},
    partitions_def=NIGHTS,
    backfill_policy=ONE_NIGHT_PER_RUN,
    description="Per source, the night's proposed 12-digit IDs (fct_enrichment) as a CSV in the sector's own "
    "column names, for the sector to import; unmasked, under <warehouse folder>/writeback/<as_of>/.",
)
def enrichment_files(context, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Write the night's write-back files; metadata holds the folder and counts only."""
    as_of = night_of(context)
    path = warehouse.resolved_path()
    from assets.linkage import model_path

    accept = load_model(model_path())[1].accept
    out_dir = writeback_dir(path, as_of)
    keep = keep_nights_setting()
    con = warehouse.connect()
    try:
        counts = write_files(con, as_of, out_dir, accept)
    finally:
        con.close()
    removed = remove_old_night_folders(out_dir.parent, keep, tonight=as_of)
    if removed:
        context.log.info(f"write-back folders of {len(removed)} nights beyond the newest {keep} removed")
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(out_dir)),
            "rows_total": dg.MetadataValue.int(sum(counts.values())),
            "folders_removed": dg.MetadataValue.int(len(removed)),
            **{f"rows_{source}": dg.MetadataValue.int(n) for source, n in counts.items()},
        }
    )
