"""Build the stewards' report of one night: `<out_dir>/<as_of>/index.html` and the pages under it.

Static files that open from disk (no server, no internet): plotly.js is copied beside the pages, the GX Data
Docs are copied in (for engineers) beside our own page of the gates (`gates.html`), every page carries
Vietnamese and English text and shows one at a time (Vietnamese by default; the switch remembers the choice).
Personal data is masked in the warehouse query unless the report is built unmasked for an entitled reader, in
which case it goes to `<out_dir>/<as_of>-unmasked/`.

A commune page lists its findings grouped by source and rule; the rows are in `communes/<code>.rows.js`
(gzip-compressed JSON, base64, decoded by the page) and shown a page at a time, so that every row is reachable
and a province's report stays small. The charts the linkage step wrote to `<as_of>/linkage/` are kept.
Old nights' reports beyond `DOISOAT_REPORT_KEEP_NIGHTS` (default 30) are removed after a build.
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import gzip
import html
import json
import multiprocessing
import os
import re
import shutil
import tempfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from assets import retention
from assets.reporting import charts
from assets.reporting.data import (
    CRITERIA,
    CRITERION_LABELS,
    OUTSIDE,
    SOURCE_LABELS,
    SOURCES,
    UNKNOWN,
    ReportData,
    connect,
    load,
)
from assets.reporting.exports import (
    EXPORT_COLUMNS,
    EXPORT_SHEETS,
    METHOD_LABELS,
    ExceptionExports,
    verify_first,
)
from assets.reporting.fmt import fmt_delta, fmt_int, fmt_rate, is_missing
from assets.reporting.refs import reference_key

HERE = Path(__file__).resolve().parent
AMBER_POINTS = 5.0  # below target by at most this many points: amber; more: red
ROWS_GZIP_LEVEL = 4  # province (bench/results/speed_report.md): level 6 took 2.1x the CPU of level 4 for
# 8 % smaller scripts, level 9 3x that of level 6 for a few % more
PAGE_ROWS = 50  # rows of a group shown at a time on a commune page (every row reachable by paging)
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
KEEP_NIGHTS_ENV = "DOISOAT_REPORT_KEEP_NIGHTS"
KEEP_NIGHTS_DEFAULT = 30
WORKERS_ENV = "DOISOAT_REPORT_WORKERS"
BUCKET_LABELS = {
    UNKNOWN: ("Chưa xác định xã/phường", "Commune unknown"),
    OUTSIDE: ("Ngoài tỉnh", "Outside the province"),
}
VERIFY_FIRST = (
    "Liên kết theo xác suất: xác minh đúng người trước khi sửa.",
    "Probabilistic link: verify it is the same person before fixing.",
)


NEW_LABEL = ("mới", "new")
OPEN_LABEL = ("tồn tại {n} đêm", "open {n} nights")  # {n}: nights since first seen
STATUS_LABELS = {
    "new": ("Mới", "New"),
    "fixed": ("Đã sửa", "Fixed"),
    "gone": ("Bản ghi đã xoá", "Record gone"),
    "open": ("Còn tồn tại", "Still open"),
}


@dataclass(frozen=True)
class BuildSummary:
    index: Path
    communes: int
    findings: int
    files: int


# --- small helpers for the templates ----------------------------------------------------------------------


def t(vi: object, en: object) -> Markup:
    """Both languages; CSS shows the chosen one."""
    return Markup(f'<span class="l-vi">{html.escape(str(vi))}</span><span class="l-en">{html.escape(str(en))}</span>')


def _num(value) -> Markup:
    return t(fmt_int(value, "vi"), fmt_int(value, "en"))


def _rate(value) -> Markup:
    return t(fmt_rate(value, "vi"), fmt_rate(value, "en"))


def _delta(value) -> Markup:
    return t(fmt_delta(value, "vi"), fmt_delta(value, "en"))


def _date(value: dt.date) -> Markup:
    return t(value.strftime("%d/%m/%Y"), value.isoformat())


def rag(rate: float | None, target: float) -> str:
    """green: meets the target; amber: at most AMBER_POINTS below; red: further below; none: no data."""
    if is_missing(rate):
        return "none"
    if rate >= target:
        return "green"
    return "amber" if rate >= target - AMBER_POINTS else "red"


RAG_LABELS = {
    "green": ("Đạt", "Met"),
    "amber": ("Gần đạt", "Near"),
    "red": ("Chưa đạt", "Below"),
    "none": ("Không có dữ liệu", "No data"),
}


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        t=t,
        rag_label=lambda r: t(*RAG_LABELS[r]),
        source_label=lambda s: t(*SOURCE_LABELS[s]),
        criterion_label=lambda c: t(*CRITERION_LABELS[c]) if c else "",
        bucket_label=lambda b: t(*BUCKET_LABELS[b]),
        source_labels=SOURCE_LABELS,
        method_label=lambda m: t(*METHOD_LABELS[m]) if m in METHOD_LABELS else "",
    )
    env.filters.update(num=_num, rate=_rate, delta=_delta, date=_date)
    return env


# --- shaping the data -------------------------------------------------------------------------------------


def _indicator_rows(
    rows: pd.DataFrame,
    catalogue: pd.DataFrame,
    below: dict[str, int] | None = None,
    history: Trend | None = None,
    stale: dict[str, dt.date] | None = None,
) -> list[dict]:
    """Indicator table rows: the named indicators first, then each source's four criteria. With `history` (the
    scope's rates over the kept nights): the change since the previous night and a sparkline; with `stale`
    (source → night of its last good extraction): the indicators of a stale source say so."""
    merged = rows.drop(columns=["target", "source", "criterion"], errors="ignore").merge(
        catalogue, on="indicator_code", how="inner"
    )
    merged["named"] = merged["criterion"].isna()
    merged["source_order"] = merged["source"].map({s: i for i, s in enumerate(SOURCES)})
    merged["criterion_order"] = merged["criterion"].map({c: i for i, c in enumerate(CRITERIA)}).fillna(-1)
    merged = merged.sort_values(
        ["named", "source_order", "criterion_order", "indicator_code"], ascending=[False, True, True, True]
    )
    out = []
    for row in merged.to_dict("records"):
        rate = None if is_missing(row["rate"]) else float(row["rate"])
        previous = history.previous(row["indicator_code"]) if history is not None else row.get("previous_rate")
        out.append(
            {
                "code": row["indicator_code"],
                "name_vi": row["name_vi"],
                "name_en": row["name_en"],
                "source": row["source"],
                "criterion": row["criterion"] if not is_missing(row["criterion"]) else None,
                "named": bool(row["named"]),
                "numerator": int(row["numerator"]),
                "denominator": int(row["denominator"]),
                "rate": rate,
                "target": float(row["target"]),
                "rag": rag(rate, float(row["target"])),
                "gap": (rate - float(row["target"])) if rate is not None else None,
                "delta": (rate - previous) if rate is not None and not is_missing(previous) else None,
                "communes_below": (below or {}).get(row["indicator_code"], 0),
                "spark": history.spark(row["indicator_code"]) if history is not None else None,
                "stale_since": (stale or {}).get(row["source"]),
            }
        )
    return out


class Trend:
    """One scope's indicator rates over the kept nights: the previous night's rate and a sparkline per indicator."""

    def __init__(self, frame: pd.DataFrame, nights: list[dt.date], previous: dt.date | None):
        self.nights = list(nights)
        frame = frame.assign(night=pd.to_datetime(frame["as_of"]).dt.date)
        wide = frame.pivot_table(index="indicator_code", columns="night", values="rate", aggfunc="first", dropna=False)
        self.wide = wide.reindex(columns=self.nights)
        self.previous_night = previous

    def previous(self, code: str) -> float | None:
        """The indicator's rate on the previous kept night (None: no previous night, or no rate then)."""
        if self.previous_night is None or code not in self.wide.index or self.previous_night not in self.wide.columns:
            return None
        value = self.wide.at[code, self.previous_night]
        return None if is_missing(value) else float(value)

    def spark(self, code: str) -> Markup | None:
        """An inline SVG of the indicator over the kept nights; None with fewer than two nights."""
        if len(self.nights) < 2 or code not in self.wide.index:
            return None
        rates = [None if is_missing(v) else float(v) for v in self.wide.loc[code].tolist()]
        shown = [fmt_rate(r, "en") for r in rates if r is not None]
        label = f"{self.nights[0].isoformat()} → {self.nights[-1].isoformat()}: {' → '.join(shown[-5:])}"
        return Markup(charts.sparkline(rates, label))


def _trends_by_scope(frame: pd.DataFrame | None, nights: list[dt.date], previous: dt.date | None) -> dict:
    """scope_code → Trend (the commune rows of fct_indicators over the kept nights)."""
    if frame is None or frame.empty:
        return {}
    return {code: Trend(part, nights, previous) for code, part in frame.groupby("scope_code", sort=False)}


def _scorecard(rows: list[dict]) -> tuple[list[dict], pd.DataFrame]:
    """The four criteria per source: table rows and the rate matrix for the heatmap."""
    by_code = {r["code"]: r for r in rows}
    table, matrix = [], {}
    for source in SOURCES:
        cells = [by_code.get(f"{source}_{criterion}") for criterion in CRITERIA]
        if not any(cells):
            continue
        records = next((c["denominator"] for c in cells if c), 0)
        table.append({"source": source, "records": records, "cells": cells})
        matrix[source] = {c: (cell["rate"] if cell else None) for c, cell in zip(CRITERIA, cells, strict=True)}
    return table, pd.DataFrame.from_dict(matrix, orient="index")


def _rule_counts(counts: pd.DataFrame, rules: pd.DataFrame) -> list[dict]:
    """Rule rows (findings, records, communes) with what each rule means, most findings first."""
    if counts.empty:
        return []
    merged = counts[["rule_code", "findings", "records", "communes"]].merge(rules, on="rule_code", how="left")
    merged = merged.sort_values(["findings", "rule_code"], ascending=[False, True])
    return merged.to_dict("records")


def _commune_summaries(data: ReportData, names: dict[str, str]) -> list[dict]:
    """One row per commune of the province, then the two buckets (no commune; communes of other provinces):
    records, findings, records with findings and their share, indicators below target, the top rule."""
    criterion_codes = {f"{s}_dung" for s in SOURCES}
    own = set(data.communes.loc[data.communes["province_code"] == data.province_code, "commune_code"])
    rows = data.commune_rows[data.commune_rows["scope_code"].isin(own)]
    records = rows[rows["indicator_code"].isin(criterion_codes)].groupby("scope_code")["denominator"].sum()
    below = rows[rows["meets_target"] == False].groupby("scope_code").size()  # noqa: E712 (NULL stays out)
    counts = data.commune_counts.set_index("commune")
    findings = counts["findings"]
    with_findings = counts["records_with_findings"]
    top_rule = counts["top_rule"]
    codes = sorted((set(rows["scope_code"]) | set(findings.index)) & own)
    out = []
    for code in [*codes, *(b for b in (UNKNOWN, OUTSIDE) if b in findings.index)]:
        bucket = code in (UNKNOWN, OUTSIDE)
        n_records = None if bucket else int(records.get(code, 0))
        n_with = int(with_findings.get(code, 0))
        out.append(
            {
                "code": code,
                "bucket": bucket,
                "name": None if bucket else names.get(code, code),
                "records": n_records,  # a bucket's records are counted at province level only
                "findings": int(findings.get(code, 0)),
                "records_with_findings": n_with,
                "share": 100.0 * n_with / n_records if n_records else None,
                "indicators_below": int(below.get(code, 0)),
                "top_rule": top_rule.get(code) if len(top_rule) else None,
            }
        )
    out.sort(key=lambda r: (r["bucket"], -r["findings"], r["code"]))
    return out


CHANGE_STATUSES = ("new", "fixed", "gone", "open")


def change_matrix(changes: pd.DataFrame | None) -> pd.DataFrame:
    """fct_finding_changes counts as one row per (commune, rule_code) with a column per status (0 when none)."""
    columns = ["commune", "rule_code", *CHANGE_STATUSES]
    if changes is None or changes.empty:
        return pd.DataFrame(columns=columns)
    wide = changes.pivot_table(index=["commune", "rule_code"], columns="status", values="n", aggfunc="sum")
    wide = wide.reindex(columns=list(CHANGE_STATUSES)).fillna(0).astype(int).reset_index()
    return wide[columns]


def change_rows(matrix: pd.DataFrame, rules: pd.DataFrame, commune: str | None = None) -> list[dict]:
    """Per rule, the findings new / fixed / gone since the previous night and still open (one commune, or the
    whole province when `commune` is None); rules with no change at all are left out; most new first."""
    part = matrix if commune is None else matrix[matrix["commune"] == commune]
    if part.empty:
        return []
    counts = part.groupby("rule_code", as_index=False)[list(CHANGE_STATUSES)].sum()
    counts = counts[(counts["new"] + counts["fixed"] + counts["gone"]) > 0]
    merged = counts.merge(rules, on="rule_code", how="left")
    return merged.sort_values(["new", "fixed", "rule_code"], ascending=[False, False, True]).to_dict("records")


def change_totals(matrix: pd.DataFrame, commune: str | None = None) -> dict[str, int]:
    """Findings new / fixed / gone / open since the previous night (one commune, or the whole province)."""
    part = matrix if commune is None else matrix[matrix["commune"] == commune]
    return {status: int(part[status].sum()) if len(part) else 0 for status in CHANGE_STATUSES}


def stale_map(stale: pd.DataFrame | None) -> dict[str, dt.date]:
    """source → the night of its last good extraction, for the sources whose state is stale tonight."""
    if stale is None or stale.empty:
        return {}
    return {row.source: pd.Timestamp(row.state_as_of).date() for row in stale.itertuples()}


def _exception_groups(frame: pd.DataFrame, rules: pd.DataFrame) -> list[dict]:
    """The findings of one commune grouped by source and rule (sources in their order, most findings first)."""
    if frame.empty:
        return []
    new = frame["is_new"].fillna(False).astype(bool) if "is_new" in frame else pd.Series(False, index=frame.index)
    sizes = (
        frame.assign(new=new.astype(int))
        .groupby(["source", "rule_code"], sort=False)
        .agg(count=("new", "size"), new=("new", "sum"))
        .reset_index()
    )
    sizes["source_order"] = sizes["source"].map({s: i for i, s in enumerate(SOURCES)})
    sizes = sizes.sort_values(["source_order", "count", "rule_code"], ascending=[True, False, True])
    groups = []
    for number, row in enumerate(sizes.itertuples(index=False)):  # one per (source, rule): a few dozen at most
        rule = rules.loc[row.rule_code] if row.rule_code in rules.index else None
        groups.append(
            {
                "id": number,
                "source": row.source,
                "rule_code": row.rule_code,
                "count": int(row.count),
                "new": int(row.new),
                "criterion": rule["criterion"] if rule is not None else None,
                "description_vi": rule["description_vi"] if rule is not None else "",
                "description_en": rule["description_en"] if rule is not None else "",
                "action_vi": rule["action_vi"] if rule is not None else "",
                "action_en": rule["action_en"] if rule is not None else "",
            }
        )
    return groups


ROW_COLUMNS = [
    "reference",
    "record_key",
    "name",
    "linked_id",
    "method",
    "probability",
    "verify",
    "commune",
    "new",
    "open_nights",
]


def open_nights(frame: pd.DataFrame, as_of: dt.date | None) -> pd.Series:
    """Nights since the finding was first seen (fct_finding_changes.first_seen_as_of; 0: new tonight; -1: not
    known, e.g. a warehouse from before that mart)."""
    if as_of is None or "first_seen_as_of" not in frame:
        return pd.Series(-1, index=frame.index, dtype=int)
    first = pd.to_datetime(frame["first_seen_as_of"])
    return (pd.Timestamp(as_of) - first).dt.days.fillna(-1).astype(int)


def page_rows(
    frame: pd.DataFrame, groups: list[dict], names: dict[str, str] | None = None, as_of: dt.date | None = None
) -> bytes:
    """The rows of a commune page as gzip-compressed JSON: `{"columns": [...], "groups": [[row, ...], ...]}`,
    one list per group in the groups' order (what the page shows and counts; every row is there). With
    `names` (the outside-the-province page), each row carries its commune's code and name."""
    methods = {m: i for i, m in enumerate(METHOD_LABELS)}
    table = pd.DataFrame(
        {
            "source": frame["source"],
            "rule_code": frame["rule_code"],
            "reference": frame["reference"].fillna(""),
            "record_key": frame["record_key"].fillna(""),
            "name": frame["name"].fillna(""),
            "linked_id": frame["linked_id"].fillna(""),
            "method": frame["match_method"].map(methods).fillna(-1).astype(int),
            "probability": frame["match_probability"].astype(float),
            "verify": verify_first(frame).astype(int),
            "commune": (
                frame["commune_code"].fillna("") + " " + frame["commune_code"].map(names).fillna("")
            ).str.strip()
            if names
            else "",
            "new": frame["is_new"].fillna(False).astype(bool).astype(int) if "is_new" in frame else 0,
            "open_nights": open_nights(frame, as_of),
        }
    )
    # one stable sort by group, then one JSON text per group from a slice of the rows (pandas' per-group
    # selection and `to_json` cost ~15 ms a group, a province has thousands of groups)
    # each row's group number: one vectorised lookup (zipping the two text columns into tuples went through
    # pandas' Arrow strings a value at a time: a third of this function's time)
    keys = pd.MultiIndex.from_arrays([[g["source"] for g in groups], [g["rule_code"] for g in groups]])
    position = keys.get_indexer(pd.MultiIndex.from_arrays([table["source"], table["rule_code"]]))
    table = table.assign(_group=position).sort_values("_group", kind="stable")
    rows = list(zip(*(_json_values(table[column]) for column in ROW_COLUMNS), strict=True))
    bounds = table["_group"].searchsorted(list(range(len(groups) + 1)), side="left")
    parts = [json.dumps(rows[bounds[i] : bounds[i + 1]], separators=(",", ":")) for i in range(len(groups))]
    text = '{"columns":' + json.dumps(ROW_COLUMNS) + ',"groups":[' + ",".join(parts) + "]}"
    return gzip.compress(text.encode("utf-8"), compresslevel=ROWS_GZIP_LEVEL, mtime=0)


def _json_values(column: pd.Series) -> list:
    """A column as Python values for `json.dumps` (NaN and NA as None: JSON null, as pandas' to_json wrote)."""
    return column.astype(object).where(column.notna(), None).tolist()


def write_rows_script(path: Path, payload: bytes) -> None:
    """The rows as a script the page loads from disk (`fetch` of local files is blocked in browsers)."""
    path.write_text(f'window.DOISOAT_ROWS="{base64.b64encode(payload).decode("ascii")}";\n', encoding="ascii")


def _row_labels(code: str, bucket: bool, groups: list[dict]) -> dict:
    """What the page's script needs to show and export the rows in either language."""
    return {
        "methods": [list(labels) for labels in METHOD_LABELS.values()],
        "verify": list(VERIFY_FIRST),
        "new": list(NEW_LABEL),
        "open": list(OPEN_LABEL),
        "columns": [EXPORT_COLUMNS["vi"], EXPORT_COLUMNS["en"]],
        "sheet": [EXPORT_SHEETS["vi"], EXPORT_SHEETS["en"]],
        "file": f"doisoat_{code}",
        "commune": "" if bucket else code,
        "groups": [
            {
                "source": list(SOURCE_LABELS.get(g["source"], (g["source"], g["source"]))),
                "rule": g["rule_code"],
                "criterion": list(CRITERION_LABELS.get(g["criterion"], ("", ""))),
                "action": [g["action_vi"] or "", g["action_en"] or ""],
            }
            for g in groups
        ],
    }


def _commune_fix_first(indicators: list[dict], rules: list[dict]) -> dict:
    """What a commune fixes first: its indicators furthest below target and its most frequent findings."""
    worst = sorted((r for r in indicators if r["rate"] is not None and r["gap"] < 0), key=lambda r: r["gap"])[:5]
    return {"indicators": worst, "rules": rules[:5]}


# --- building ---------------------------------------------------------------------------------------------


def _copy_static(root: Path, gx_docs: Path | None, as_of: dt.date | None = None) -> bool:
    import plotly

    static = root / "static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", static / "plotly.min.js")
    for name in ("report.css", "report.js"):
        shutil.copyfile(HERE / "static" / name, static / name)
    if gx_docs and gx_docs.exists():
        copy_data_docs(gx_docs, root / "gx-data-docs", as_of)
        offline_data_docs(root / "gx-data-docs")
        return True
    return False


def copy_data_docs(site: Path, target: Path, as_of: dt.date | None) -> None:
    """The Data Docs a night's report needs: the suites, the index, and this night's validation runs only (the
    site keeps every night's: copying them all into every report would grow each report night by night). The
    site's static folder (fonts, animated help images: 4 MB) is left out; the pages work without it."""
    from expectations.gx.gates import run_name

    night = run_name(as_of) if as_of else None

    def skip(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        if here == site:
            return {"static"} & set(names)
        if night and here.parent == site / "validations":
            return {n for n in names if n != night}
        return set()

    shutil.copytree(site, target, ignore=skip)


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
_REMOTE_LINK = re.compile(r"<link[^>]*\shref=[\"']https?://[^>]*>", re.IGNORECASE)
_REMOTE_IMG = re.compile(r"<img[^>]*\ssrc=[\"']https?://[^>]*>", re.IGNORECASE)
_OFFLINE_STYLE = (  # the few Bootstrap and Font Awesome classes GX's pages use, so that they read well offline
    "<style>body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}"
    "a{color:#1d4f91}.d-none{display:none!important}.collapse:not(.show){display:none}footer{display:none}"
    ".navbar{display:flex;align-items:center;gap:12px;background:#fff;border-bottom:1px solid #d9dee5;"
    "padding:8px 16px}.breadcrumb{display:flex!important;list-style:none;gap:6px;margin:0;padding:0}"
    ".breadcrumb-item+.breadcrumb-item:before{content:'/';margin-right:6px;color:#5f6b7a}"
    ".container-fluid{padding:16px 24px!important}.row{display:flex;flex-wrap:wrap;gap:0}"
    ".col-12{flex:0 0 100%}.col-6{flex:0 0 50%}@media(min-width:768px){.col-md-2,.col-lg-2{flex:0 0 16%}"
    ".col-md-10,.col-lg-10{flex:0 0 82%}}.ge-navigation-sidebar-container{background:#fff;border:1px solid "
    "#d9dee5;border-radius:8px;padding:8px;margin-right:12px}.nav{list-style:none;padding:0;margin:0}"
    ".nav-link{display:block;padding:3px 6px;text-decoration:none}.card{background:#fff;border:1px solid #d9dee5;"
    "border-radius:8px;margin:0 0 14px}.card-header{background:#eef1f5;padding:8px 12px;border-bottom:1px solid "
    "#d9dee5}.card-body{padding:12px}.alert{padding:8px 12px;border-radius:6px;background:#eef3fb;border:1px solid "
    "#b8c8e4}.table{border-collapse:collapse;width:100%;background:#fff}.table td,.table th{border:1px solid "
    "#d9dee5;padding:4px 6px;vertical-align:top;text-align:left}.table-responsive{overflow-x:auto}"
    ".text-danger{color:#b42318}.text-success{color:#2e8b57}.fas.fa-times:before{content:'\\2717';font-style:normal}"
    ".fas.fa-check:before,.fas.fa-check-circle:before{content:'\\2713';font-style:normal}"
    ".m-0{margin:0}.mb-1{margin-bottom:4px}.h6{font-weight:600}</style>"
)


def offline_data_docs(directory: Path) -> None:
    """Make the copied GX Data Docs open offline: drop their scripts (CDN jQuery/Bootstrap and the inline code
    that needs them), CDN styles and the remote logo (a request carrying the context id); add a small local
    style. The validation pages are static HTML and keep their content and links."""
    for page in directory.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        text = _REMOTE_IMG.sub("", _REMOTE_LINK.sub("", _SCRIPT.sub("", text)))
        text = text.replace("</head>", _OFFLINE_STYLE + "</head>", 1)
        page.write_text(text, encoding="utf-8")


def _chart_pair(fn, *args, div_id: str, **kwargs) -> dict[str, Markup]:
    return {lang: Markup(fn(*args, lang=lang, div_id=f"{div_id}-{lang}", **kwargs)) for lang in charts.LANGS}


def _gates(gx_root: Path | None, as_of: dt.date, province_rows: list[dict]) -> dict | None:
    """The GX gates of the night (as the quality asset recorded them), for the report's quality section."""
    if gx_root is None:
        return None
    from expectations.gx.gates import load_results

    results = load_results(gx_root, as_of)
    if results is None:
        return None
    agree = sum(
        1
        for r in province_rows
        if (g := results.indicators.get(r["code"])) is not None
        and (g.numerator, g.denominator) == (r["numerator"], r["denominator"])
    )
    return {
        "invariants": list(results.invariants.values()),
        "indicators_checked": len(results.indicators),
        "indicators_agree": agree,
        "below_target": sum(1 for g in results.indicators.values() if g.rate is not None and not g.success),
        "pages": results.validation_pages,
    }


def build(
    warehouse: Path,
    as_of: dt.date,
    out_dir: Path,
    masked: bool = True,
    gx_root: Path | None = None,
    keep_nights: int | None = None,
) -> BuildSummary:
    """Build the report; returns where its index is and what it holds.

    The findings stay in DuckDB (a temporary table, memory bounded, spilling to a scratch folder removed
    afterwards) and are read one commune at a time for its page and files. Afterwards only the newest
    `keep_nights` nights' reports are kept (default: `DOISOAT_REPORT_KEEP_NIGHTS`, else 30; 0 keeps all)."""
    warehouse = Path(warehouse)
    as_of = dt.date.fromisoformat(str(as_of))
    scratch = Path(tempfile.mkdtemp(prefix="doisoat-report-duckdb."))
    con = connect(warehouse, scratch)
    try:
        summary = _build(con, warehouse, as_of, Path(out_dir), masked, gx_root)
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    apply_retention(Path(out_dir), keep_nights if keep_nights is not None else keep_nights_setting())
    return summary


def keep_nights_setting() -> int:
    """How many nights' reports to keep: `DOISOAT_REPORT_KEEP_NIGHTS` (default 30; 0 keeps every night)."""
    return retention.keep_nights_setting(KEEP_NIGHTS_ENV, KEEP_NIGHTS_DEFAULT)


def apply_retention(out_dir: Path, keep: int) -> list[Path]:
    """Remove the reports (masked and unmasked) of nights older than the newest `keep`; returns what went."""
    return retention.remove_old_night_folders(out_dir, keep)


def _generated() -> dict[str, str]:
    now = dt.datetime.now(TIMEZONE)
    return {
        "vi": now.strftime("%H:%M ngày %d/%m/%Y (giờ Việt Nam, UTC+7)"),
        "en": now.strftime("%Y-%m-%d %H:%M (Vietnam time, UTC+7)"),
    }


def _build(con, warehouse: Path, as_of: dt.date, out_dir: Path, masked: bool, gx_root: Path | None) -> BuildSummary:
    data = load(warehouse, as_of, masked=masked, con=con, ref_key=reference_key(warehouse))
    names = dict(zip(data.communes["commune_code"], data.communes["commune_name"], strict=True))
    env = _environment()

    own = set(data.communes.loc[data.communes["province_code"] == data.province_code, "commune_code"])
    commune_rows = data.commune_rows[data.commune_rows["scope_code"].isin(own)]
    below = commune_rows[commune_rows["meets_target"] == False].groupby("indicator_code").size()  # noqa: E712
    history = Trend(data.trend, data.nights, data.previous_as_of)
    commune_histories = _trends_by_scope(data.commune_trend, data.nights, data.previous_as_of)
    stale = stale_map(data.stale)
    change_counts = change_matrix(data.changes)
    indicator_rows = _indicator_rows(data.province_rows, data.indicators, below.to_dict(), history, stale)
    scorecard, matrix = _scorecard(indicator_rows)
    rule_counts = _rule_counts(data.rule_counts, data.rules)
    communes = _commune_summaries(data, names)
    by_commune = change_counts.groupby("commune")[list(CHANGE_STATUSES)].sum() if len(change_counts) else None
    for c in communes:
        counts = by_commune.loc[c["code"]] if by_commune is not None and c["code"] in by_commune.index else None
        c.update({status: int(counts[status]) if counts is not None else 0 for status in CHANGE_STATUSES})
    own_communes = [c for c in communes if not c["bucket"]]
    buckets = [c for c in communes if c["bucket"]]
    rule_frame = (
        pd.DataFrame(rule_counts)[["rule_code", "criterion", "findings"]]
        if rule_counts
        else pd.DataFrame(columns=["rule_code", "criterion", "findings"])
    )

    final_dir = out_dir / (as_of.isoformat() if masked else f"{as_of.isoformat()}-unmasked")
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.", dir=final_dir.parent))
    try:
        gx_root = Path(gx_root) if gx_root else None
        docs = gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" if gx_root else None
        has_docs = _copy_static(work, docs, as_of)
        gates = _gates(gx_root, as_of, indicator_rows)
        linkage = final_dir / "linkage"  # the linkage step's charts of this night: kept
        if linkage.is_dir():
            shutil.copytree(linkage, work / "linkage")
        linkage_charts = sorted(p.relative_to(work).as_posix() for p in (work / "linkage").glob("*.html"))

        base = {
            "as_of": as_of,
            "province_name": data.province_name,
            "province_code": data.province_code,
            "masked": masked,
            "generated": _generated(),
            "amber_points": AMBER_POINTS,
            "previous_as_of": data.previous_as_of,
            "stale": [
                {"source": source, "since": since, "label": SOURCE_LABELS.get(source, (source, source))}
                for source, since in sorted(stale.items())
            ],
            "status_labels": STATUS_LABELS,
        }
        (work / "communes").mkdir()
        rules = data.rules.set_index("rule_code")
        exports = ExceptionExports(rules, names)
        summary_files = exports.write_summary(work / "exceptions", data.commune_rule_counts)

        worst_indicators = sorted(
            (r for r in indicator_rows if r["rate"] is not None and r["gap"] < 0), key=lambda r: r["gap"]
        )[:5]
        commune_chart_frame = pd.DataFrame(
            [
                {
                    "label_vi": c["name"],
                    "label_en": c["name"],
                    "findings": c["findings"],
                    "records_with_findings": c["records_with_findings"],
                }
                for c in own_communes
                if c["findings"]
            ]
        )
        by_share = sorted(
            (c for c in own_communes if c["share"] is not None and c["findings"]), key=lambda c: -c["share"]
        )
        index_html = env.get_template("index.html.j2").render(
            **base,
            root="",
            indicators=indicator_rows,
            changes=change_rows(change_counts, data.rules),
            change_totals=change_totals(change_counts),
            scorecard=scorecard,
            rules=rule_counts,
            communes=own_communes,
            buckets=buckets,
            worst_indicators=worst_indicators,
            top_rules=rule_counts[:5],
            top_communes=[c for c in own_communes if c["findings"]][:5],
            top_share=by_share[:5],
            gates=gates,
            has_docs=has_docs,
            downloads=summary_files,
            quarantine=data.quarantine.to_dict("records"),
            quarantine_total=int(data.quarantine["rows"].sum()) if len(data.quarantine) else 0,
            linkage_charts=linkage_charts,
            totals=_totals(data, communes),
            chart_scorecard=_chart_pair(charts.scorecard_heatmap, matrix, div_id="scorecard")
            if not matrix.empty
            else None,
            chart_trend=_chart_pair(charts.trend_named, data.trend, data.indicators, div_id="trend-named"),
            chart_trend_criteria=_chart_pair(
                charts.trend_criteria, data.trend, data.indicators, div_id="trend-criteria"
            ),
            chart_rules=_chart_pair(
                charts.rules_bar, rule_frame, div_id="rules", title=("Số lỗi theo quy tắc", "Findings by rule")
            )
            if rule_counts
            else None,
            chart_communes=_chart_pair(charts.communes_bar, commune_chart_frame, div_id="communes")
            if not commune_chart_frame.empty
            else None,
            nights=sorted(set(data.trend["as_of"])),
        )
        (work / "index.html").write_text(index_html, encoding="utf-8")
        (work / "gates.html").write_text(
            env.get_template("gates.html.j2").render(
                **base, root="", gates=gates, indicators=indicator_rows, has_docs=has_docs
            ),
            encoding="utf-8",
        )

        pages = _CommunePages(
            template=env.get_template("commune.html.j2"),
            work=work,
            base=base,
            as_of=as_of,
            names=names,
            rules=rules,
            data=data,
            histories=commune_histories,
            stale=stale,
            change_counts=change_counts,
        )
        render_communes(pages, communes, data.findings.commune)

        n_files = sum(1 for p in work.rglob("*") if p.is_file())
        if final_dir.exists():
            shutil.rmtree(final_dir)
        os.replace(work, final_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BuildSummary(
        index=final_dir / "index.html", communes=len(communes), findings=data.totals["findings"], files=n_files
    )


@dataclass
class _CommunePages:
    """What every commune page needs besides its own findings (shared with the worker processes by fork)."""

    template: object
    work: Path
    base: dict
    as_of: dt.date
    names: dict[str, str]
    rules: pd.DataFrame
    data: ReportData
    histories: dict
    stale: dict[str, dt.date]
    change_counts: pd.DataFrame


_PAGES: _CommunePages | None = None  # set in the parent before the workers fork


def _commune_page(commune: dict, frame: pd.DataFrame, ctx: _CommunePages | None = None) -> None:
    """Write one commune's page and its rows script (`frame`: the commune's findings, in the report's order)."""
    ctx = ctx or _PAGES
    code = commune["code"]
    rows = ctx.data.commune_rows[ctx.data.commune_rows["scope_code"] == code] if not commune["bucket"] else None
    commune_indicators = (
        _indicator_rows(rows, ctx.data.indicators, history=ctx.histories.get(code), stale=ctx.stale)
        if rows is not None
        else []
    )
    commune_scorecard, commune_matrix = _scorecard(commune_indicators)
    commune_rules = _rule_counts(
        ctx.data.commune_rule_counts[ctx.data.commune_rule_counts["commune"] == code], ctx.data.rules
    )
    groups = _exception_groups(frame, ctx.rules)
    if groups:
        write_rows_script(
            ctx.work / "communes" / f"{code}.rows.js",
            page_rows(frame, groups, ctx.names if code == OUTSIDE else None, as_of=ctx.as_of),
        )
    outside = frame.groupby("commune_code").size().sort_values(ascending=False).head(20) if code == OUTSIDE else None
    page = ctx.template.render(
        **ctx.base,
        root="../",
        commune=commune,
        indicators=commune_indicators,
        fix_first=_commune_fix_first(commune_indicators, commune_rules),
        changes=change_rows(ctx.change_counts, ctx.data.rules, code),
        change_totals=change_totals(ctx.change_counts, code),
        scorecard=commune_scorecard,
        rules=commune_rules,
        groups=groups,
        exceptions_total=len(frame),
        page_rows=PAGE_ROWS,
        row_labels=_row_labels(code, commune["bucket"], groups),
        outside=[{"code": c, "name": ctx.names.get(c, c), "findings": int(n)} for c, n in outside.items()]
        if outside is not None
        else None,
        chart_rules=_chart_pair(
            charts.rules_bar,
            pd.DataFrame(commune_rules)[["rule_code", "criterion", "findings"]],
            div_id="rules",
            title=("Số lỗi theo quy tắc", "Findings by rule"),
        )
        if commune_rules
        else None,
        chart_scorecard=_chart_pair(charts.scorecard_heatmap, commune_matrix, div_id="scorecard")
        if not commune_matrix.empty
        else None,
    )
    (ctx.work / "communes" / f"{code}.html").write_text(page, encoding="utf-8")


def report_workers() -> int:
    """Processes rendering the commune pages: `DOISOAT_REPORT_WORKERS`, else the machine's cores (at most 4)."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(4, os.cpu_count() or 1))


def render_communes(ctx: _CommunePages, communes: list[dict], read_findings) -> None:
    """Render every commune page; the parent reads each commune's findings from DuckDB and forked workers
    render (pandas, gzip, Jinja, plotly: Python-bound), a bounded number of communes in flight."""
    global _PAGES
    workers = report_workers()
    if workers == 1 or len(communes) < 2:
        for commune in communes:
            _commune_page(commune, read_findings(commune["code"]), ctx)
        return
    _PAGES = ctx
    # Forked children inherit the night's heap, including garbage not yet collected (DuckDB and Arrow objects
    # whose finalisers expect the parent's threads): a child's garbage collector freeing them crashed a worker
    # (SIGSEGV, tests/orchestration). Collect that garbage here, in the parent, and freeze what is left, so that
    # a child's collector only ever visits the child's own objects (Python's documented fork pattern).
    gc.collect()
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        with pool:
            pending: set = set()
            for future in [pool.submit(_worker_ready) for _ in range(workers)]:  # every worker forks now
                future.result()
            for commune in communes:
                pending.add(pool.submit(_commune_page, commune, read_findings(commune["code"])))
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
            for future in pending:
                future.result()
    finally:
        gc.unfreeze()
        _PAGES = None


def _worker_ready() -> bool:
    """A no-op task: submitting one per worker makes the pool fork them all before any findings are read."""
    return True


def _totals(data: ReportData, communes: list[dict]) -> dict:
    sector = {
        s: int(r)
        for s, r in (
            (c["source"], c["denominator"])
            for c in _indicator_rows(data.province_rows, data.indicators)
            if c["criterion"] == "dung"
        )
    }
    return {
        "records": sum(sector.values()),
        "findings": int(data.totals["findings"]),
        "records_with_findings": int(data.totals["records"]),
        "communes": sum(1 for c in communes if not c["bucket"]),
        "communes_with_findings": sum(1 for c in communes if not c["bucket"] and c["findings"]),
    }


def build_report(
    warehouse: Path | str,
    as_of: dt.date | str,
    out_dir: Path | str | None = None,
    masked: bool = True,
    gx_root: Path | str | None = None,
    keep_nights: int | None = None,
) -> Path:
    """Build the stewards' report of night `as_of` from `warehouse`; returns the path of its index.html.

    `out_dir` is the reports folder (default `<warehouse folder>/reports`): the report goes to
    `<out_dir>/<as_of>/`, or `<out_dir>/<as_of>-unmasked/` when `masked=False` (for an entitled reader only).
    The GX results and Data Docs are taken from `gx_root` (default `<warehouse folder>/gx`) when present.
    Reports of nights older than the newest `keep_nights` are removed (default `DOISOAT_REPORT_KEEP_NIGHTS`, 30).
    """
    from expectations.gx.gates import gx_root_for

    warehouse = Path(warehouse).resolve()
    out = Path(out_dir) if out_dir else warehouse.parent / "reports"
    root = Path(gx_root) if gx_root else gx_root_for(warehouse)
    return build(
        warehouse, as_of, out, masked=masked, gx_root=root if root.exists() else None, keep_nights=keep_nights
    ).index
