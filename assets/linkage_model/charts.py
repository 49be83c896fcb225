"""The data engineer's charts, as self-contained HTML (vega bundled from Splink's package: no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .model import Thresholds


def _match_weights_html(splink_model: dict[str, Any]) -> str:
    # the chart needs only the model; an empty input of the right shape is enough to instantiate a Linker
    import duckdb
    from splink import DuckDBAPI, Linker

    from .features import FEATURE_COLUMNS

    con = duckdb.connect()
    cols = ", ".join(f"cast(null as varchar) as {c}" for c in FEATURE_COLUMNS if c not in ("birth_date", "birth_year"))
    con.execute(f"create table t as select {cols}, cast(null as date) as birth_date, 0 as birth_year where false")
    db_api = DuckDBAPI(con)
    linker = Linker(
        [
            db_api.register("t", dataset_display_name="master"),
            db_api.register("t", dataset_display_name="records"),
        ],
        splink_model,
        log_level=None,
    )
    try:
        return linker.visualisations.match_weights_chart().to_html(inline=True)
    finally:
        con.close()


def threshold_chart_spec(holdout: dict[str, Any], thresholds: Thresholds) -> dict[str, Any]:
    """Vega-Lite: precision and recall of the ID hold-out against the threshold, with the two thresholds."""
    values = [
        {"threshold": c["threshold"], "measure": m, "value": c[m]}
        for c in holdout.get("curve", [])
        for m in ("precision", "recall")
    ]
    rules = [
        {"threshold": thresholds.review, "name": "review"},
        {"threshold": thresholds.accept, "name": "accept"},
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Precision / recall against the threshold (ID hold-out, {holdout.get('records', 0)} records)",
        "width": 640,
        "height": 360,
        "layer": [
            {
                "data": {"values": values},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {"field": "threshold", "type": "quantitative", "scale": {"domain": [0, 1]}},
                    "y": {"field": "value", "type": "quantitative", "scale": {"zero": False}},
                    "color": {"field": "measure", "type": "nominal"},
                    "tooltip": [
                        {"field": "threshold"},
                        {"field": "measure"},
                        {"field": "value", "format": ".4f"},
                    ],
                },
            },
            {
                "data": {"values": rules},
                "mark": {"type": "rule", "strokeDash": [4, 4]},
                "encoding": {
                    "x": {"field": "threshold", "type": "quantitative"},
                    "tooltip": [{"field": "name"}],
                },
            },
        ],
    }


def write_charts(
    splink_model: dict[str, Any], thresholds: Thresholds, holdout: dict[str, Any], out_dir: Path
) -> list[Path]:
    """match_weights.html and threshold.html under `out_dir`, both opening offline."""
    from splink.internals.html_utils import chart_html

    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / "match_weights.html"
    weights.write_text(_match_weights_html(splink_model), encoding="utf-8")
    threshold = out_dir / "threshold.html"
    threshold.write_text(
        chart_html(threshold_chart_spec(holdout, thresholds), inline=True, fullhtml=True), encoding="utf-8"
    )
    return [weights, threshold]
