"""Write-back files: per source, exactly the night's fct_enrichment rows, in the sector's own column names."""

from __future__ import annotations

import csv

import duckdb

from assets.writeback import SECTOR_COLUMNS, writeback_dir
from tests.support import AS_OF


def test_each_sources_file_lists_exactly_its_enrichment_rows(tiny_night):
    folder = writeback_dir(tiny_night, AS_OF)
    con = duckdb.connect(str(tiny_night), read_only=True)
    try:
        for source, (key, id_column) in SECTOR_COLUMNS.items():
            with (folder / f"{source}.csv").open(encoding="utf-8", newline="") as f:
                reader = csv.DictReader(f)
                assert reader.fieldnames == [key, id_column, "match_method", "match_probability"]
                written = {(r[key], r[id_column], r["match_method"], float(r["match_probability"])) for r in reader}
            expected = set(
                con.execute(
                    """select source_record_id, proposed_personal_id, match_method, match_probability
                       from marts.fct_enrichment where as_of = ? and source = ?""",
                    [AS_OF, source],
                ).fetchall()
            )
            assert written == expected, source
            assert all(len(pid) == 12 and pid.isdigit() for _, pid, _, _ in written), "IDs keep their zeros"
        assert any((folder / f"{s}.csv").stat().st_size > 100 for s in SECTOR_COLUMNS)
    finally:
        con.close()
