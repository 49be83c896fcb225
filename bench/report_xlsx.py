"""Exception-list writers measured at a large size: the hand-written SpreadsheetML writer against XlsxWriter's
`constant_memory` mode, and the report's CSV writer against pandas' `to_csv` (the report's writer was
hand-written when first measured; it is pandas' now: see `bench/results/report_xlsx.md`).

    uv run --frozen python bench/report_xlsx.py --rows 1000000

Each writer runs in its own child process (peak RSS is the child's own, including the table, whose own peak is
printed first); CPU seconds are reported beside wall seconds because the machine may be shared. The table is
synthetic, shaped like a commune's exception list (9 text columns, few distinct values in most, a distinct key per
row).
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["commune", "source", "reference", "record_key", "name", "linked_id", "rule", "method", "probability"]


def table(rows: int) -> pd.DataFrame:
    """A synthetic exception list of `rows` rows (seeded)."""
    rng = np.random.default_rng(7)
    given = np.array(["An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Minh", "Nga", "Thúy"], dtype=object)
    initials = np.array(["N. V.", "T. T.", "L. V.", "P. T. N.", "H. Đ."], dtype=object)
    ids = rng.integers(10**11, 10**12, rows).astype(str).astype(object)
    return pd.DataFrame(
        {
            "commune": "00001",
            "source": rng.choice(np.array(["vaccination", "social", "civil", "children"], dtype=object), rows),
            "reference": pd.Series(rng.integers(0, 2**63, rows)).map("{:016x}".format).to_numpy(dtype=object),
            "record_key": (np.char.add("VX", np.arange(rows).astype(str))).astype(object),
            "name": initials[rng.integers(0, 5, rows)] + " " + given[rng.integers(0, 10, rows)],
            "linked_id": np.char.add(
                np.char.add(ids.astype(str).astype("U3"), "*******"), ids.astype(str).astype("U12")
            ).astype(object),
            "rule": rng.choice(
                np.array(["ID_MISSING", "NAME_MISMATCH", "DOB_MISMATCH", "ID_UNKNOWN"], dtype=object), rows
            ),
            "method": rng.choice(np.array(["personal_id", "legacy_id", "probabilistic", "none"], dtype=object), rows),
            "probability": rng.choice(np.array(["1", "0.987", "0.912", ""], dtype=object), rows),
        }
    )


def run(writer: str, rows: int, out: Path) -> dict:
    """Write the table with `writer` (in this process); return seconds and bytes."""
    frame = table(rows)
    started, cpu = time.perf_counter(), time.process_time()
    if writer == "handwritten_xlsx":
        from assets.reporting.xlsx import Sheet, write_xlsx

        write_xlsx(out, [Sheet("Exceptions", frame, [14] * len(COLUMNS))])
    elif writer == "xlsxwriter_constant_memory":
        import xlsxwriter

        book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        sheet = book.add_worksheet("Exceptions")
        sheet.write_row(0, 0, COLUMNS)
        for number, row in enumerate(frame.itertuples(index=False, name=None), start=1):
            sheet.write_row(number, 0, row)
        book.close()
    elif writer == "report_write_csv":  # the report's CSV writer (pandas since this benchmark)
        from assets.reporting.xlsx import write_csv

        write_csv(frame, out)
    elif writer == "pandas_to_csv":
        frame.to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    else:
        raise ValueError(writer)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "bytes": out.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/doisoat-bench-xlsx"))
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:
        suffix = ".xlsx" if args.child.endswith("xlsx") or "xlsxwriter" in args.child else ".csv"
        result = run(args.child, args.rows, args.out / f"{args.child}{suffix}")
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    baseline = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import bench.report_xlsx as b; b.table({args.rows}); import resource; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"rows: {args.rows:,}; building the table alone peaks at {float(baseline.stdout):,.0f} MiB", flush=True)
    print(f"{'writer':<30}{'wall s':>10}{'CPU s':>10}{'MB':>10}{'peak RSS MiB':>14}")
    for writer in ("handwritten_xlsx", "xlsxwriter_constant_memory", "report_write_csv", "pandas_to_csv"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.report_xlsx",
                "--rows",
                str(args.rows),
                "--out",
                str(args.out),
                "--child",
                writer,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{writer:<30}{r['seconds']:>10.1f}{r['cpu']:>10.1f}{r['bytes'] / 1e6:>10.1f}{r['peak_rss_mib']:>14,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
