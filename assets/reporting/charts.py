"""The report's charts, drawn by plotly: one figure per language (labels and number separators differ).

Figures are plain plotly figure dicts rendered by `plotly.io.to_html` without re-validation: a report has two
charts per commune and hundreds of communes, and building validated graph objects costs most of the time.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.io as pio

from assets.reporting.data import CRITERIA, CRITERION_LABELS, SOURCE_LABELS, SOURCES

LANGS = ("vi", "en")
SEPARATORS = {"vi": ",.", "en": ".,"}  # plotly: decimal point first, then thousands separator
# no toolbar: on a phone it covers the chart's title, and stewards read the charts rather than zoom them
CONFIG = {"responsive": True, "displaylogo": False, "displayModeBar": False}
TOP_BARS = 15  # bars of a bar chart; the title says when there are more
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif", "size": 13}
RAG_SCALE = [[0.0, "#c0392b"], [0.5, "#e6a23c"], [0.75, "#f3d36b"], [1.0, "#2e8b57"]]
CRITERION_COLOURS = {"dung": "#2f6db5", "du": "#8e44ad", "sach": "#d68910", "song": "#c0392b"}


def _i(lang: str, pair: tuple[str, str]) -> str:
    return pair[0] if lang == "vi" else pair[1]


def _title(text: str) -> dict:
    return {"text": text, "x": 0, "font": {"size": 14}}


def _layout(lang: str, height: int, **extra) -> dict:
    layout = {
        "height": height,
        "autosize": True,
        "separators": SEPARATORS[lang],
        "font": FONT,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
        "xaxis": {"automargin": True},
        "yaxis": {"automargin": True},
    }
    for key, value in extra.items():
        layout[key] = layout[key] | value if isinstance(layout.get(key), dict) and isinstance(value, dict) else value
    return layout


def _html(data: list[dict], layout: dict, div_id: str) -> str:
    return pio.to_html(
        {"data": data, "layout": layout},
        full_html=False,
        include_plotlyjs=False,
        config=CONFIG,
        div_id=div_id,
        validate=False,
    )


def _values(series: pd.Series) -> list:
    return [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in series]


def scorecard_heatmap(scorecard: pd.DataFrame, lang: str, div_id: str) -> str:
    """Sources × criteria, coloured by rate (the four criteria per source)."""
    sources = [s for s in SOURCES if s in scorecard.index]
    z = [
        [
            None if c not in scorecard.columns or pd.isna(scorecard.loc[s, c]) else float(scorecard.loc[s, c])
            for c in CRITERIA
        ]
        for s in sources
    ]
    data = [
        {
            "type": "heatmap",
            "z": z,
            "x": [_i(lang, CRITERION_LABELS[c]) for c in CRITERIA],
            "y": [_i(lang, SOURCE_LABELS[s]) for s in sources],
            "zmin": 80,
            "zmax": 100,
            "colorscale": RAG_SCALE,
            "texttemplate": "%{z:.2f}%",
            "hovertemplate": "%{y} · %{x}: %{z:.2f}%<extra></extra>",
            "showscale": False,
            "xgap": 3,
            "ygap": 3,
        }
    ]
    title = "Tỷ lệ bản ghi đạt từng tiêu chí (%)" if lang == "vi" else "Share of records meeting each criterion (%)"
    layout = _layout(
        lang,
        80 + 48 * len(sources),
        title=_title(title),
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        yaxis={"autorange": "reversed"},
        xaxis={"side": "top"},
    )
    return _html(data, layout, div_id)


def _night_labels(series: pd.Series, lang: str) -> list[str]:
    """Nights as category labels (evenly spaced, one tick per night, no invented hours in between)."""
    return [pd.Timestamp(v).strftime("%d/%m/%Y" if lang == "vi" else "%Y-%m-%d") for v in series]


def _line(series: pd.DataFrame, name: str, lang: str, visible: bool = True) -> dict:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": _night_labels(series["as_of"], lang),
        "y": _values(series["rate"]),
        "name": name,
        "visible": visible,
        "hovertemplate": "%{x}: %{y:.2f}%<extra>%{fullData.name}</extra>",
    }


def trend_named(trend: pd.DataFrame, indicators: pd.DataFrame, lang: str, div_id: str) -> str:
    """The named indicators over the nights kept."""
    named = indicators[indicators["criterion"].isna()].sort_values("indicator_code")
    data = [
        _line(
            trend[trend["indicator_code"] == row.indicator_code],
            row.name_vi if lang == "vi" else row.name_en,
            lang,
        )
        for row in named.itertuples()
    ]
    title = "Các chỉ tiêu chính qua các đêm đối soát" if lang == "vi" else "Main indicators over the nights"
    layout = _layout(
        lang,
        470,
        title=_title(title),
        yaxis={"title": {"text": "%"}, "range": [0, 100.5]},
        xaxis={"type": "category"},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "font": {"size": 11}},
    )
    return _html(data, layout, div_id)


def trend_criteria(trend: pd.DataFrame, indicators: pd.DataFrame, lang: str, div_id: str) -> str:
    """The four criteria of one source over the nights, the source chosen from a menu."""
    crit = indicators[indicators["criterion"].notna()]
    sources = [s for s in SOURCES if s in set(crit["source"])]
    data = [
        _line(
            trend[trend["indicator_code"] == f"{source}_{criterion}"],
            _i(lang, CRITERION_LABELS[criterion]),
            lang,
            visible=index == 0,
        )
        for index, source in enumerate(sources)
        for criterion in CRITERIA
    ]
    buttons = [
        {
            "label": _i(lang, SOURCE_LABELS[source]),
            "method": "update",
            "args": [{"visible": [i // len(CRITERIA) == n for i in range(len(sources) * len(CRITERIA))]}],
        }
        for n, source in enumerate(sources)
    ]
    title = "Bốn tiêu chí theo nguồn dữ liệu" if lang == "vi" else "The four criteria by source"
    layout = _layout(
        lang,
        420,
        title=_title(title),
        yaxis={"title": {"text": "%"}, "range": [0, 100.5]},
        xaxis={"type": "category"},
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
        updatemenus=[
            {"buttons": buttons, "direction": "down", "x": 1, "xanchor": "right", "y": 1.18, "yanchor": "top"}
        ],
    )
    return _html(data, layout, div_id)


def _padded_range(values: pd.Series) -> list[float]:
    """An x range with room for the bars' outside labels (so `34,275` is not cut to `34`)."""
    top = float(values.max()) if len(values) else 1.0
    return [0, max(top, 1.0) * 1.3]


def rules_bar(counts: pd.DataFrame, lang: str, div_id: str, title: tuple[str, str]) -> str:
    """Findings per rule (most frequent on top), one colour per criterion with its legend; `counts` has
    rule_code, criterion, findings. With more than TOP_BARS rules the title says how many are shown."""
    top = counts.sort_values("findings", ascending=True).tail(TOP_BARS)
    data = []
    for criterion in CRITERIA:
        part = top[top["criterion"] == criterion]
        if part.empty:
            continue
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": _i(lang, CRITERION_LABELS[criterion]),
                "x": _values(part["findings"]),
                "y": list(part["rule_code"]),
                "marker": {"color": CRITERION_COLOURS[criterion]},
                "text": _values(part["findings"]),
                "texttemplate": "%{x:,}",
                "textposition": "outside",
                "textangle": 0,
                "cliponaxis": False,
                "hovertemplate": "%{y}: %{x:,}<extra>%{fullData.name}</extra>",
            }
        )
    text, below = _i(lang, title), 30
    if len(counts) > len(top):
        text += (
            f"<br><sub>{len(top)} / {len(counts)} quy tắc có nhiều lỗi nhất</sub>"
            if lang == "vi"
            else f"<br><sub>the {len(top)} of {len(counts)} rules with most findings</sub>"
        )
        below = 48
    height = 160 + below + 26 * len(top)
    layout = _layout(
        lang,
        height,
        # title, then the colour legend under it, both from the chart's left edge (not the plot's): on a phone
        # the rule names take half the width, and a legend beside the plot would cover the title
        title=_title(text) | {"xref": "container", "yref": "container", "y": 1 - 6 / height, "yanchor": "top"},
        showlegend=True,
        barmode="overlay",
        xaxis={"tickformat": ",", "range": _padded_range(top["findings"])},
        yaxis={"categoryorder": "array", "categoryarray": list(top["rule_code"])},
        legend={
            "orientation": "h",
            "xref": "container",
            "yref": "container",
            "x": 0,
            "y": 1 - below / height,
            "yanchor": "top",
            "font": {"size": 12},
        },
        margin={"l": 10, "r": 10, "t": 34 + below, "b": 10},
    )
    return _html(data, layout, div_id)


def communes_bar(summary: pd.DataFrame, lang: str, div_id: str) -> str:
    """The communes with most findings (`summary`: label_vi, label_en, findings, records_with_findings)."""
    top = summary.sort_values("findings", ascending=True).tail(TOP_BARS)
    labels = list(top[f"label_{lang}"])
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "x": _values(top["records_with_findings"]),
            "y": labels,
            "name": "Bản ghi có lỗi" if lang == "vi" else "Records with findings",
            "marker": {"color": "#e6a23c"},
            "hovertemplate": "%{y}: %{x:,}<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "x": _values(top["findings"]),
            "y": labels,
            "name": "Lỗi" if lang == "vi" else "Findings",
            "marker": {"color": "#c0392b"},
            "hovertemplate": "%{y}: %{x:,}<extra></extra>",
        },
    ]
    title = "Xã/phường có nhiều lỗi nhất" if lang == "vi" else "Communes with the most findings"
    if len(summary) > len(top):
        title += f"<br><sub>{len(top)} / {len(summary)}</sub>"
    layout = _layout(
        lang,
        160 + 40 * len(top),
        barmode="group",
        title=_title(title),
        xaxis={"tickformat": ",", "range": _padded_range(top["findings"])},
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return _html(data, layout, div_id)


SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 84, 22, 3


def sparkline(rates: list[float | None], label: str = "") -> str:
    """A small inline SVG line of one indicator's rate over the kept nights (oldest first; None: no rate that
    night). No script, a few hundred bytes: one per indicator row fits a province's 100 commune pages. The y
    range is the series' own (at least one point), so small changes show; the last night is a dot."""
    points = [(i, float(r)) for i, r in enumerate(rates) if r is not None and not pd.isna(r)]
    if not points:
        return ""
    low = min(r for _, r in points)
    high = max(r for _, r in points)
    span = max(high - low, 1.0)
    middle = (high + low) / 2
    low, high = middle - span / 2, middle + span / 2
    steps = max(len(rates) - 1, 1)

    def xy(i: int, r: float) -> str:
        x = SPARK_PAD + (SPARK_WIDTH - 2 * SPARK_PAD) * (i / steps if len(rates) > 1 else 1.0)
        y = SPARK_HEIGHT - SPARK_PAD - (SPARK_HEIGHT - 2 * SPARK_PAD) * (r - low) / (high - low)
        return f"{x:.1f},{y:.1f}"

    last_x, last_y = xy(*points[-1]).split(",")
    line = f'<polyline points="{" ".join(xy(i, r) for i, r in points)}"/>' if len(points) > 1 else ""
    return (
        f'<svg class="spark" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}"'
        f' role="img" aria-label="{html.escape(label)}">{line}<circle cx="{last_x}" cy="{last_y}" r="2.5"/></svg>'
    )
