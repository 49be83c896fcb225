"""The size of a built report by part, and bytes per finding of the commune rows (for extrapolating).

uv run --frozen python bench/report_size.py data/reports/2026-12-02 data/warehouse.duckdb
"""

import sys
from collections import defaultdict
from pathlib import Path

import duckdb


def part(relative: Path) -> str:
    """The part of the report a file belongs to."""
    top = relative.parts[0]
    if top == "communes":
        return "communes/*.rows.js" if relative.name.endswith(".rows.js") else "communes/*.html"
    return top if len(relative.parts) > 1 else "index.html, gates.html"


def main() -> None:
    report, warehouse = Path(sys.argv[1]), Path(sys.argv[2])
    sizes, counts = defaultdict(int), defaultdict(int)
    for path in report.rglob("*"):
        if path.is_file():
            key = part(path.relative_to(report))
            sizes[key] += path.stat().st_size
            counts[key] += 1
    con = duckdb.connect(str(warehouse), read_only=True)
    findings = con.execute("select count(*) from marts.fct_findings where as_of = ?", [report.name[:10]]).fetchone()[0]
    con.close()
    print(f"{'part':<26}{'files':>8}{'MB':>10}")
    for key in sorted(sizes, key=lambda k: -sizes[k]):
        print(f"{key:<26}{counts[key]:>8,}{sizes[key] / 1e6:>10.2f}")
    print(f"{'total':<26}{sum(counts.values()):>8,}{sum(sizes.values()) / 1e6:>10.2f}")
    print(f"findings {findings:,}; rows scripts {sizes['communes/*.rows.js'] / max(findings, 1):.1f} bytes per finding")


if __name__ == "__main__":
    main()
