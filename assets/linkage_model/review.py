"""The stewards' review: the queue as workbooks per commune, and decisions checked before they are kept.

A decision names a pair of one night's queue (source, record key, candidate personal ID), one of
accept / reject / unsure, and who decided. Decisions are kept in `decisions.review_decisions` with who, when,
from which file, and the pair's fingerprint (a hash of both sides' compared fields) at that night: a later
night applies a decision only while the fingerprint is unchanged; otherwise the pair is shown again.

The workbooks carry names and dates unmasked: a steward cannot tell two people apart from initials, and is
entitled to the records being reconciled. They are written under `data/review/<as_of>/`, apart from the
masked report, and never attached to the report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

OUTPUT_SCHEMA = "intermediate"
REVIEW_TABLE = f"{OUTPUT_SCHEMA}.linkage_review"
DECISIONS_TABLE = "decisions.review_decisions"
QUEUE_HISTORY = "decisions.review_queue_history"
DECISIONS = ("accept", "reject", "unsure")

DECISIONS_DDL = f"""
create schema if not exists decisions;
create table if not exists {DECISIONS_TABLE} (
    source varchar not null,
    source_record_id varchar not null,
    personal_id varchar not null,
    decision varchar not null check (decision in ('accept', 'reject')),
    decided_by varchar not null,
    decided_at timestamp not null,
    match_probability double,
    note varchar
);
alter table {DECISIONS_TABLE} add column if not exists source_file varchar;
alter table {DECISIONS_TABLE} add column if not exists queue_as_of date;
alter table {DECISIONS_TABLE} add column if not exists pair_fingerprint varchar;
create table if not exists {QUEUE_HISTORY} (
    as_of date not null,
    source varchar not null,
    source_record_id varchar not null,
    personal_id varchar not null,
    match_probability double,
    pair_fingerprint varchar
);
"""

# The workbook's columns an import reads back, and the steward's inputs.
KEY_COLUMNS = ("as_of", "source", "source_record_id", "candidate_personal_id")
INPUT_COLUMNS = ("decision", "reviewer", "note")

# Headers are Vietnamese first, then the column's name: "Họ tên / record_name". An import reads the part after
# the last " / " (a header without one as it is, so workbooks written before still import).
SIDE_FIELDS = {
    "name": "Họ tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "commune_code": "Mã xã",
    "mother": "Mẹ",
    "father": "Cha",
    "spouse": "Vợ/chồng",
    "death_date": "Ngày mất",
}
HEADERS_VI = {
    "as_of": "Đêm đối soát",
    "source": "Nguồn",
    "source_record_id": "Mã hồ sơ",
    "candidate_personal_id": "Số định danh đề xuất",
    "match_probability": "Xác suất khớp",
    "candidate_rank": "Thứ hạng đề xuất",
    "n_candidates": "Số người đề xuất",
    "previous_decision": "Quyết định trước (hồ sơ đã thay đổi)",
    **{f"record_{k}": f"Hồ sơ: {v}" for k, v in SIDE_FIELDS.items()},
    **{f"candidate_{k}": f"Người đề xuất: {v}" for k, v in SIDE_FIELDS.items()},
    "evidence_family_name": "So sánh họ",
    "evidence_middle_name": "So sánh tên đệm",
    "evidence_given_name": "So sánh tên",
    "evidence_birth_date": "So sánh ngày sinh",
    "evidence_sex": "So sánh giới tính",
    "evidence_commune": "So sánh xã",
    "evidence_mother": "So sánh mẹ",
    "evidence_father": "So sánh cha",
    "evidence_spouse": "So sánh vợ/chồng",
    "evidence_death": "So sánh ngày mất",
    "evidence_other_record": "Hồ sơ khác cùng loại",
    "evidence_commune_elsewhere": "Xã của hồ sơ, theo nguồn khác",
    "decision": "Quyết định: accept = đúng người, reject = không phải, unsure = chưa rõ",
    "reviewer": "Người duyệt",
    "note": "Ghi chú",
}
# The evidence in words, Vietnamese first (the model's level labels and the presence evidence's, in English)
EVIDENCE_VI = {
    "missing on a side": "thiếu ở một bên",
    "different": "khác",
    "same": "giống",
    "exact (accented)": "giống hệt (có dấu)",
    "exact without accents": "giống khi bỏ dấu",
    "similar (Jaro-Winkler >= 0.9)": "gần giống (Jaro-Winkler ≥ 0.9)",
    "same day": "cùng ngày",
    "same month (month precision)": "cùng tháng (chỉ biết tháng)",
    "same year (year precision)": "cùng năm (chỉ biết năm)",
    "one digit off, or day and month swapped": "lệch một chữ số, hoặc đảo ngày và tháng",
    "within a year": "cách nhau không quá một năm",
    "same mother ID": "cùng số định danh của mẹ",
    "same mother name": "cùng tên mẹ",
    "similar mother name": "tên mẹ gần giống",
    "same father name": "cùng tên cha",
    "similar father name": "tên cha gần giống",
    "same spouse ID": "cùng số định danh vợ/chồng",
    "same spouse name": "cùng tên vợ/chồng",
    "similar spouse name": "tên vợ/chồng gần giống",
    "same date of death": "cùng ngày mất",
    "within a month": "cách nhau không quá một tháng",
    "the candidate already has another record of this kind, linked by ID": (
        "người đề xuất đã có một hồ sơ khác cùng loại, khớp theo số định danh"
    ),
    "the candidate has no other record of this kind linked by ID": (
        "người đề xuất chưa có hồ sơ nào khác cùng loại khớp theo số định danh"
    ),
    "another source's record of the candidate, linked by ID, is in the record's commune": (
        "một hồ sơ của người đề xuất ở nguồn khác, khớp theo số định danh, cũng ở xã của hồ sơ này"
    ),
}


def header_of(column: str) -> str:
    """The workbook's header of `column`: Vietnamese first where there is a translation."""
    return f"{HEADERS_VI[column]} / {column}" if column in HEADERS_VI else column


def column_of(header) -> str:
    """The column a workbook header stands for (the inverse of header_of)."""
    return str(header).strip().rsplit(" / ", 1)[-1].strip()


def _evidence_in_both_languages(table):
    """The table with its evidence columns in words "Vietnamese / English", one translation per distinct value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, name in enumerate(table.column_names):
        if not name.startswith("evidence_"):
            continue
        encoded = pc.dictionary_encode(table.column(i)).combine_chunks()
        words = [
            None if w is None else (f"{EVIDENCE_VI[w]} / {w}" if w in EVIDENCE_VI else w)
            for w in encoded.dictionary.to_pylist()
        ]
        both = pa.DictionaryArray.from_arrays(encoded.indices, pa.array(words, pa.string())).cast(pa.string())
        table = table.set_column(i, name, both)
    return table


class ReviewError(ValueError):
    """Decisions refused; `errors` lists every problem by row (no names or IDs)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Decision:
    """One steward's decision on one pair, and the row of the file it came from (1 for a single pair)."""

    source: str
    source_record_id: str
    personal_id: str
    decision: str
    decided_by: str
    row: int = 1
    note: str | None = None


def ensure_decisions_table(con) -> None:
    """Create the decisions schema's tables if missing (never dropped: decisions survive the nights)."""
    con.execute(DECISIONS_DDL)


def remember_queue(con, as_of: dt.date) -> None:
    """Keep tonight's queue (pairs and fingerprints) so that decisions can be checked against it later."""
    ensure_decisions_table(con)
    con.execute(f"delete from {QUEUE_HISTORY} where as_of = ?", [as_of])
    con.execute(
        f"""insert into {QUEUE_HISTORY}
            select as_of, source, source_record_id, personal_id, match_probability, pair_fingerprint
            from {REVIEW_TABLE}"""
    )


def latest_queue_night(con) -> dt.date | None:
    """The night of the latest queue kept, or None when there is none."""
    ensure_decisions_table(con)
    return con.execute(f"select max(as_of) from {QUEUE_HISTORY}").fetchone()[0]


def check_decisions(con, decisions: list[Decision], as_of: dt.date | None) -> list[str]:
    """Every problem of `decisions` against the queue of `as_of`, by row; empty when all can be kept."""
    ensure_decisions_table(con)
    errors: list[str] = []
    if as_of is None:
        return ["no review queue has been kept yet: run a night first"]
    for d in decisions:
        if (d.decision or "").strip().lower() not in DECISIONS:
            errors.append(f"row {d.row}: decision must be one of {', '.join(DECISIONS)}")
        if not (d.decided_by or "").strip():
            errors.append(f"row {d.row}: no reviewer named")
    if decisions:
        con.execute(
            "create or replace temp table _review_check (row integer, source varchar, rid varchar, pid varchar)"
        )
        con.executemany(
            "insert into _review_check values (?, ?, ?, ?)",
            [[d.row, d.source, d.source_record_id, d.personal_id] for d in decisions],
        )
        missing = con.execute(
            f"""select c.row from _review_check as c
                anti join (select * from {QUEUE_HISTORY} where as_of = ?) as q
                    on q.source = c.source and q.source_record_id = c.rid and q.personal_id = c.pid
                order by c.row""",
            [as_of],
        ).fetchall()
        errors += [f"row {r}: the pair is not in the review queue of {as_of.isoformat()}" for (r,) in missing]
        twice = con.execute(
            """select min(row), max(row) from _review_check group by source, rid, pid having count(*) > 1
               order by 1"""
        ).fetchall()
        errors += [f"row {b}: the same pair as row {a}" for a, b in twice]
        con.execute("drop table _review_check")
    return sorted(errors, key=lambda e: int(e.split(":")[0].split()[1]) if e.startswith("row ") else 0)


def apply_decisions(
    con,
    decisions: list[Decision],
    *,
    as_of: dt.date | None = None,
    source_file: str | None = None,
    decided_at: dt.datetime | None = None,
) -> dict[str, int]:
    """Check every decision, then keep them all (accept/reject) in one transaction, or none: ReviewError."""
    as_of = as_of or latest_queue_night(con)
    errors = check_decisions(con, decisions, as_of)
    if errors:
        raise ReviewError(errors)
    when = decided_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    kept = [d for d in decisions if d.decision.strip().lower() != "unsure"]
    con.execute("begin transaction")
    try:
        con.executemany(
            f"""insert into {DECISIONS_TABLE}
                (source, source_record_id, personal_id, decision, decided_by, decided_at, match_probability, note,
                 source_file, queue_as_of, pair_fingerprint)
                select ?, ?, ?, ?, ?, ?, q.match_probability, ?, ?, ?, q.pair_fingerprint
                from {QUEUE_HISTORY} as q
                where q.as_of = ? and q.source = ? and q.source_record_id = ? and q.personal_id = ?""",
            [
                [
                    d.source,
                    d.source_record_id,
                    d.personal_id,
                    d.decision.strip().lower(),
                    d.decided_by.strip(),
                    when,
                    d.note,
                    source_file,
                    as_of,
                    as_of,
                    d.source,
                    d.source_record_id,
                    d.personal_id,
                ]
                for d in kept
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    counts = {k: sum(1 for d in decisions if d.decision.strip().lower() == k) for k in DECISIONS}
    return counts


def record_decision(
    con,
    *,
    source: str,
    source_record_id: str,
    personal_id: str,
    decision: str,
    decided_by: str,
    as_of: dt.date | None = None,
    note: str | None = None,
    decided_at: dt.datetime | None = None,
) -> None:
    """One steward's decision on one pair of the queue (checked like a file's row); applied the next night."""
    apply_decisions(
        con,
        [Decision(source, source_record_id, personal_id, decision, decided_by, 1, note)],
        as_of=as_of,
        source_file=None,
        decided_at=decided_at,
    )


def read_workbook(path: Path | str) -> tuple[dt.date | None, list[Decision]]:
    """The decisions of a filled review workbook (every sheet), with their Excel row numbers."""
    from openpyxl import load_workbook

    book = load_workbook(Path(path), read_only=True, data_only=True)
    nights: set[dt.date] = set()
    out: list[Decision] = []
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if not header:
                continue
            index = {column_of(h): i for i, h in enumerate(header) if h is not None}
            needed = [c for c in (*KEY_COLUMNS, *INPUT_COLUMNS) if c not in index]
            if needed:
                raise ReviewError([f"sheet {sheet.title}: missing column(s) {', '.join(needed)}"])
            for number, values in enumerate(rows, start=2):
                cell = {k: values[i] if i < len(values) else None for k, i in index.items()}
                if all(cell[k] in (None, "") for k in ("decision", "reviewer")):
                    continue  # not decided: left for later
                night = cell["as_of"]
                if isinstance(night, dt.datetime):
                    night = night.date()
                elif isinstance(night, str):
                    night = dt.date.fromisoformat(night.strip())
                nights.add(night)
                out.append(
                    Decision(
                        source=_text(cell["source"]),
                        source_record_id=_text(cell["source_record_id"]),
                        personal_id=_text(cell["candidate_personal_id"]),
                        decision=_text(cell["decision"]),
                        decided_by=_text(cell["reviewer"]),
                        row=number,
                        note=_text(cell["note"]) or None,
                    )
                )
    finally:
        book.close()
    if len(nights) > 1:
        raise ReviewError(["the file mixes the queues of several nights"])
    return (nights.pop() if nights else None), out


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def import_workbook(con, path: Path | str) -> dict[str, int]:
    """Check and keep a filled workbook's decisions (all or none); ReviewError lists the rows at fault."""
    as_of, decisions = read_workbook(path)
    if not decisions:
        raise ReviewError(["the file holds no decision"])
    return apply_decisions(con, decisions, as_of=as_of, source_file=Path(path).name)


def _workbook_rows_sql(records: str, master: str) -> str:
    sides = []
    for prefix, table_alias in (("record", "r"), ("candidate", "m")):
        sides.append(
            f"""
            {table_alias}.full_name as {prefix}_name,
            {table_alias}.birth_text as {prefix}_birth_date,
            {table_alias}.sex as {prefix}_sex,
            {table_alias}.commune_code as {prefix}_commune_code,
            {table_alias}.mother_name_unaccented as {prefix}_mother,
            {table_alias}.father_name_norm as {prefix}_father,
            {table_alias}.spouse_name_norm as {prefix}_spouse,
            cast({table_alias}.death_date as varchar) as {prefix}_death_date"""
        )
    return f"""
    select
        q.as_of, q.source, q.source_record_id, q.personal_id as candidate_personal_id,
        round(q.match_probability, 4) as match_probability, q.candidate_rank, q.n_candidates,
        q.previous_decision,
        coalesce(r.commune_code, '') as route_commune,{",".join(sides)},
        q.* exclude (as_of, source, source_record_id, personal_id, match_probability, candidate_rank,
                     n_candidates, previous_decision, match_weight, pair_fingerprint)
    from {REVIEW_TABLE} as q
    join {records} as r on r.source = q.source and r.source_record_id = q.source_record_id
    join {master} as m on m.unique_id = q.personal_id
    order by route_commune, q.source, q.source_record_id, q.candidate_rank
    """


def write_workbooks(con, records: str, master: str, out_dir: Path) -> list[Path]:
    """The queue as one workbook per commune of the record (`review_<commune>.xlsx`), evidence side by side."""
    import xlsxwriter

    table = con.execute(_workbook_rows_sql(records, master)).to_arrow_table()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("review_*.xlsx"):
        old.unlink()
    if table.num_rows == 0:
        return []
    table = _evidence_in_both_languages(table)
    columns = [c for c in table.column_names if c != "route_commune"]
    headers = [*columns, *INPUT_COLUMNS]
    data = table.to_pydict()
    communes = data["route_commune"]
    paths: list[Path] = []
    start = 0
    while start < len(communes):  # one workbook per commune; rows arrive sorted by commune
        end = start
        while end < len(communes) and communes[end] == communes[start]:
            end += 1
        path = out_dir / f"review_{communes[start] or 'unknown'}.xlsx"
        book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "default_date_format": "yyyy-mm-dd"})
        sheet = book.add_worksheet("review")
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True})
        decide = book.add_format({"bg_color": "#FFF2CC"})
        sheet.write_row(0, 0, [header_of(h) for h in headers], bold)
        for j, name in enumerate(columns):
            values = data[name][start:end]
            values = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
            sheet.write_column(1, j, values)
        first_input = len(columns)
        n = end - start
        sheet.data_validation(
            1,
            first_input,
            n,
            first_input,
            {"validate": "list", "source": list(DECISIONS), "error_message": "accept / reject / unsure"},
        )
        for k in range(len(INPUT_COLUMNS)):
            sheet.write_column(1, first_input + k, [""] * n, decide)
        sheet.freeze_panes(1, 4)
        sheet.set_column(0, len(headers) - 1, 18)
        sheet.autofilter(0, 0, n, len(headers) - 1)
        book.close()
        paths.append(path)
        start = end
    return paths
