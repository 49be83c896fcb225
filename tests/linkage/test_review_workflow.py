"""The stewards' review workflow: workbooks per commune, import checked row by row, decisions across nights."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from openpyxl import load_workbook

from assets.linkage_model.predict import DECISIONS_TABLE, LINKS_TABLE, REVIEW_TABLE, link_night
from assets.linkage_model.review import EVIDENCE_VI, ReviewError, column_of, import_workbook
from tests.linkage.handmade import COMMUNES, Person, load, people, record_of

AS_OF = dt.date(2026, 11, 25)
A, B = "079199000001", "079199000002"


@pytest.fixture()
def world(tmp_path):
    """Two namesakes (one name, birth date, sex; two communes) and a record of B without a commune."""
    master = people(200)
    master += [
        Person(A, "nguyễn văn namsake", dt.date(1990, 5, 17), "M", COMMUNES[0]),
        Person(B, "nguyễn văn namsake", dt.date(1990, 5, 17), "M", COMMUNES[1]),
    ]
    records = [record_of(p, "vaccination", f"v{i}") for i, p in enumerate(master[:20])]
    records.append(record_of(master[-1], "civil", "no_commune", commune=None))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load(con, master, records)
    yield con, tmp_path
    con.close()


def _night(con, tmp_path, day: int):
    as_of = AS_OF + dt.timedelta(days=day)
    out = tmp_path / "review" / as_of.isoformat()
    return link_night(con, as_of, holdout_size=0, review_dir=out), out


def _fill(path, choices: dict[str, tuple[str, str]], edit=None) -> None:
    """Write decision and reviewer into the rows whose candidate is a key of `choices`."""
    book = load_workbook(path)
    sheet = book.active
    col = {column_of(c.value): i for i, c in enumerate(sheet[1], start=1)}
    for r in range(2, sheet.max_row + 1):
        person = sheet.cell(r, col["candidate_personal_id"]).value
        if person in choices:
            decision, reviewer = choices[person]
            sheet.cell(r, col["decision"]).value = decision
            sheet.cell(r, col["reviewer"]).value = reviewer
        if edit:
            edit(sheet, r, col)
    book.save(path)


def _links(con) -> dict:
    rows = con.execute(f"select source_record_id, personal_id, link_basis from {LINKS_TABLE}").fetchall()
    return {r: (p, basis) for r, p, basis in rows}


def _decisions(con) -> int:
    return con.execute(f"select count(*) from {DECISIONS_TABLE}").fetchone()[0]


def test_a_filled_workbook_changes_the_next_nights_links(world):
    con, tmp_path = world
    result, out = _night(con, tmp_path, 0)
    assert "no_commune" not in _links(con)
    assert [p.name for p in map(lambda s: __import__("pathlib").Path(s), result.review_workbooks)] == [
        "review_unknown.xlsx"
    ], "one workbook per commune of the record (no commune: 'unknown')"
    path = out / "review_unknown.xlsx"
    header = [c.value for c in load_workbook(path).active[1]]
    assert {"record_name", "candidate_name", "record_birth_date", "candidate_birth_date", "decision"} <= {
        column_of(h) for h in header
    }
    # Vietnamese first: "Hồ sơ: Họ tên / record_name"
    assert "Hồ sơ: Họ tên / record_name" in header and header[-3].startswith("Quyết định")
    _fill(path, {A: ("reject", "steward-1"), B: ("accept", "steward-1")})
    assert import_workbook(con, path) == {"accept": 1, "reject": 1, "unsure": 0}
    kept = con.execute(f"select decided_by, source_file, queue_as_of from {DECISIONS_TABLE}").fetchall()
    assert {k for k in kept} == {("steward-1", "review_unknown.xlsx", AS_OF)}

    _night(con, tmp_path, 1)
    assert _links(con)["no_commune"] == (B, "review_accepted")
    assert con.execute(f"select count(*) from {REVIEW_TABLE} where source_record_id = 'no_commune'").fetchone() == (0,)


def test_every_evidence_word_of_the_model_has_its_vietnamese():
    from assets.linkage_model.model import load_model
    from assets.linkage_model.predict import COMMUNE_ELSEWHERE_LABEL, OTHER_RECORD_LABELS
    from assets.linkage_model.scoring import level_labels

    words = {w for labels in level_labels(load_model()[0]).values() for w in labels.values()}
    words |= {*OTHER_RECORD_LABELS.values(), COMMUNE_ELSEWHERE_LABEL}
    assert words <= set(EVIDENCE_VI), sorted(words - set(EVIDENCE_VI))


def test_the_workbook_speaks_vietnamese_first_and_one_with_plain_headers_still_imports(world):
    con, tmp_path = world
    _, out = _night(con, tmp_path, 0)
    path = out / "review_unknown.xlsx"
    sheet = load_workbook(path).active
    assert all(" / " in c.value for c in sheet[1]), "every header has its Vietnamese"
    col = {column_of(c.value): i for i, c in enumerate(sheet[1], start=1)}
    evidence = [sheet.cell(r, col["evidence_given_name"]).value for r in range(2, sheet.max_row + 1)]
    assert evidence and all(
        e.endswith(" / " + english) and e.startswith(EVIDENCE_VI[english])
        for e in evidence
        for english in [e.rsplit(" / ", 1)[-1]]
    )
    # a workbook written before the Vietnamese headers (the column names alone) is read the same
    book = load_workbook(path)
    for cell in book.active[1]:
        cell.value = column_of(cell.value)
    book.save(path)
    _fill(path, {B: ("accept", "steward-1")})
    assert import_workbook(con, path) == {"accept": 1, "reject": 0, "unsure": 0}


def test_a_workbook_with_errors_is_refused_whole(world):
    con, tmp_path = world
    _, out = _night(con, tmp_path, 0)
    path = out / "review_unknown.xlsx"

    def unknown_pair(sheet, r, col):
        if sheet.cell(r, col["candidate_personal_id"]).value == A:
            sheet.cell(r, col["candidate_personal_id"]).value = "079100000003"  # a person, not in the queue

    _fill(path, {A: ("accept", "steward-1"), B: ("maybe", "")}, edit=unknown_pair)
    rows = {
        sheet_row
        for sheet_row, person in enumerate(
            (c.value for c in load_workbook(path).active["D"][1:]),
            start=2,
        )
        if person in (A, B, "079100000003")
    }
    with pytest.raises(ReviewError) as refused:
        import_workbook(con, path)
    errors = refused.value.errors
    assert any("not in the review queue" in e for e in errors)
    assert any("decision must be one of" in e for e in errors)
    assert any("no reviewer named" in e for e in errors)
    assert {int(e.split(":")[0].split()[1]) for e in errors} == rows, "each error names its Excel row"
    assert all(A not in e and B not in e for e in errors), "no personal ID in the messages"
    assert _decisions(con) == 0, "nothing of a refused file is kept"
    _night(con, tmp_path, 1)
    assert "no_commune" not in _links(con)


def test_a_decision_on_a_changed_record_is_shown_again(world):
    con, tmp_path = world
    _, out = _night(con, tmp_path, 0)
    path = out / "review_unknown.xlsx"
    _fill(path, {B: ("accept", "steward-1")})
    import_workbook(con, path)
    # before the next night, the record's sex is corrected at the source
    con.execute("update handmade.records set sex = 'F' where source_record_id = 'no_commune'")
    _night(con, tmp_path, 1)
    assert "no_commune" not in _links(con), "not applied blindly"
    again = con.execute(
        f"select personal_id, previous_decision from {REVIEW_TABLE} where source_record_id = 'no_commune'"
    ).fetchall()
    assert (B, "accept") in again


def test_namesakes_with_one_birth_date_are_told_apart_by_the_mother(tmp_path):
    """Same name, birth date, sex and commune: only the mother differs; each record links its own person."""
    mothers = [Person(f"07918000000{i}", n, dt.date(1960, 1, 2 + i), "F", COMMUNES[0]) for i, n in enumerate(
        ["trần thị mẹ một", "lê thị mẹ hai"]
    )]  # fmt: skip
    twins = [
        Person(f"07919000000{i}", "nguyễn văn trùng", dt.date(2015, 3, 4), "M", COMMUNES[0], mother_id=m.personal_id)
        for i, m in enumerate(mothers)
    ]
    master = people(200) + mothers + twins
    records = [
        record_of(t, "children", f"c{i}", mother_name=m.name, mother_id=None)
        for i, (t, m) in enumerate(zip(twins, mothers, strict=True))
    ]
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    try:
        load(con, master, records)
        link_night(con, AS_OF, holdout_size=0)
        made = _links(con)
        assert made["c0"][0] == twins[0].personal_id and made["c1"][0] == twins[1].personal_id
    finally:
        con.close()
