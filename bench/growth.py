"""How a night's cost grows with the province: whole nights at several sizes, and an exponent per stage.

    uv run --frozen python bench/growth.py --scales 0.5 1 2 --out /tmp/growth --results bench/results/growth.md
    uv run --frozen python bench/growth.py --scales 0.5 1 2 --out /tmp/growth --reuse   # only re-read night.json

For each scale, `bench/night.py --scale F` simulates the calibrated `province` at F times its size and runs one
full night, in its own process (`<out>/x<F>/night.json`). The exponent of a stage is the slope of
log(cost) against log(size) over the scales (least squares): 1 is linear, 2 quadratic. Wall and CPU seconds
and peak memory; CPU seconds are the figure to trust on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from night import STAGES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MEASURES = (("wall_s", "wall s"), ("cpu_s", "CPU s"), ("peak_rss_mib", "peak MiB"))


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) on log(x); None with fewer than two usable points."""
    usable = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y and y > 0]
    if len(usable) < 2:
        return None
    mx = sum(x for x, _ in usable) / len(usable)
    my = sum(y for _, y in usable) / len(usable)
    den = sum((x - mx) ** 2 for x, _ in usable)
    return sum((x - mx) * (y - my) for x, y in usable) / den if den else None


def run_scale(scale: float, out: Path, as_of: str, sources: Path | None = None) -> Path:
    """One full night at `scale` (simulated, or from already simulated `sources` of that scale)."""
    folder = out / f"x{scale:g}"
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(ROOT / "bench" / "night.py"), "--out", str(folder), "--as-of", as_of]
    cmd += ["--sources", str(sources)] if sources else ["--scale", str(scale)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return folder / "night.json"


def table(records: dict[float, dict]) -> str:
    scales = sorted(records)
    lines = []
    head = " | ".join(f"×{s:g} {label}" for s in scales for _, label in MEASURES[:2])
    lines.append(f"| stage | {head} | exponent wall | exponent CPU | exponent peak memory |")
    lines.append("|---|" + "---:|" * (2 * len(scales) + 3))
    rows = [*(s for s in STAGES), "night"]
    for stage in rows:
        cells, exps = [], []
        for scale in scales:
            rec = records[scale]
            data = rec["night"] if stage == "night" else rec["stages"].get(stage, {})
            cells += [f"{data.get(key, 0):,.1f}" if data else "—" for key, _ in MEASURES[:2]]
        for key, _ in MEASURES:
            pts = []
            for scale in scales:
                rec = records[scale]
                data = rec["night"] if stage == "night" else rec["stages"].get(stage, {})
                if data:
                    pts.append((scale, float(data.get(key, 0))))
            e = slope(pts)
            exps.append("—" if e is None else f"{e:.2f}")
        lines.append(f"| {stage} | " + " | ".join(cells + exps) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/doisoat-growth"))
    parser.add_argument("--as-of", default="2026-11-21")
    parser.add_argument("--reuse", action="store_true", help="read the recorded night.json files, run nothing")
    parser.add_argument(
        "--sources",
        action="append",
        default=[],
        metavar="F=DIR",
        help="scale F's sources are already simulated in DIR (`doisoat simulate` or `bench/simulate_bench.py`)",
    )
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    given = {float(k): Path(v).resolve() for k, v in (item.split("=", 1) for item in args.sources)}
    records: dict[float, dict] = {}
    for scale in args.scales:
        path = args.out / f"x{scale:g}" / "night.json"
        if not (args.reuse and path.exists()):
            path = run_scale(scale, args.out.resolve(), args.as_of, given.get(scale))
        records[scale] = json.loads(path.read_text(encoding="utf-8"))
    first = records[min(records)]
    ordered = sorted(records.items())
    people = {s: (r.get("fct_indicators_province") or {}).get("residents", {}).get("count") for s, r in records.items()}
    text = [
        "# How a night grows with the province",
        "",
        f"`uv run --frozen python bench/growth.py --scales {' '.join(f'{s:g}' for s in sorted(records))}`: one full",
        "night per size (simulated by `bench/night.py --scale F`, each in its own process and folder).",
        "",
        f"Machine: {first['machine'].get('cpu_model', '')}, {first['machine'].get('logical_cores', '')} cores, "
        f"{first['machine'].get('ram_gib', '')} GiB.",
        "",
        "Residents per scale: " + ", ".join(f"×{s:g}: {people[s] or 0:,}" for s in sorted(people)),
        "",
        "Load before each night: " + "; ".join(f"×{s:g} `{r.get('uptime_before', '')}`" for s, r in ordered),
        "",
        table(records),
        "",
        "Succeeded: " + ", ".join(f"×{s:g} {'yes' if r.get('succeeded') else 'NO'}" for s, r in ordered),
    ]
    page = "\n".join(text) + "\n"
    print(page)
    if args.results:
        args.results.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    main()
