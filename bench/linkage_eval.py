"""Measure a warehouse's probabilistic links against the simulator's ground truth (tests and bench only)."""

from __future__ import annotations

from pathlib import Path


def evaluate(warehouse: Path | str, truth: Path | str, links_table: str = "intermediate.linkage_probabilistic") -> dict:
    """Precision / recall of the probabilistic links; counts only (no names or IDs)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            f"""
            with truth as (
                select source, source_record_id, true_personal_id, link_class
                from read_parquet('{Path(truth)}')
                where record_kind = 'record'
            ),
            links as (select source, source_record_id, personal_id from {links_table}),
            joined as (
                select truth.*, links.personal_id
                from truth left join links using (source, source_record_id)
            )
            select
                count(*) filter (where link_class = 'probabilistic') as probabilistic_records,
                count(*) filter (
                    where link_class = 'probabilistic' and personal_id = true_personal_id
                ) as found,
                count(*) filter (where link_class = 'probabilistic' and personal_id is not null
                                 and personal_id <> true_personal_id) as wrong_person,
                count(*) filter (where link_class = 'none' and personal_id is not null) as none_linked,
                count(*) filter (where link_class in ('personal_id', 'legacy_id') and personal_id is not null)
                    as deterministic_also_linked,
                count(personal_id) filter (where link_class not in ('personal_id', 'legacy_id')) as links,
                count(personal_id) filter (where link_class not in ('personal_id', 'legacy_id')
                                           and personal_id = true_personal_id) as correct_links,
                (select count(*) from links) as links_total
            from joined
            """
        ).fetchone()
    finally:
        con.close()
    keys = (
        "probabilistic_records",
        "found",
        "wrong_person",
        "none_linked",
        "deterministic_also_linked",
        "links",
        "correct_links",
        "links_total",
    )
    out = dict(zip(keys, row, strict=True))
    out["precision"] = out["correct_links"] / out["links"] if out["links"] else 1.0
    out["recall"] = out["found"] / out["probabilistic_records"] if out["probabilistic_records"] else 1.0
    return out


if __name__ == "__main__":
    import sys

    print(evaluate(sys.argv[1], sys.argv[2]))
