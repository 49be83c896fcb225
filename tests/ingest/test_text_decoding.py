"""Text that is not UTF-8: legacy Vietnamese encodings decoded by the declared policy, else replaced and recorded."""

from __future__ import annotations

import datetime as dt
import sqlite3

import duckdb
import pyarrow as pa
import pytest

from assets.ingest import ingest_table
from assets.text_decoding import (
    decode_cp1258,
    decode_tcvn3,
    decode_value,
    decode_vni,
    encode_tcvn3,
    encode_vni,
    legacy_encodings,
    repair_batch,
)
from expectations.contracts import CONTRACTS

NAMES = ["Nguyễn Thị Hường", "Trần Văn Đức", "Phạm Thuỳ Dương", "Hoàng Quốc Việt", "Đỗ Mỹ Lệ", "Vũ Thị Ỵ", "Lý Ánh"]
DOI_TUONG = next(c for c in CONTRACTS if c.table == "doi_tuong")


@pytest.mark.parametrize("name", NAMES)
def test_vni_and_tcvn3_round_trip(name):
    assert decode_vni(encode_vni(name)) == name
    assert decode_tcvn3(encode_tcvn3(name.lower())) == name.lower()


def test_hand_checked_byte_sequences():
    # TCVN3 (ABC): ả = B6, ắ = BE, ư = AD, ờ = EA, ơ = AC (as in .VnTime text "B¶o Th¾ng", "M­êng Kh­¬ng")
    assert decode_tcvn3(b"B\xb6o Th\xbeng") == "Bảo Thắng"
    assert decode_tcvn3(b"M\xad\xeang Kh\xad\xacng") == "Mường Khương"
    # VNI Windows: "Xin chaøo caùc baïn" = Xin chào các bạn; Ñ = Đ, ö + ø = ừ
    assert decode_vni("Xin chaøo caùc baïn".encode("cp1252")) == "Xin chào các bạn"
    assert decode_vni(b"\xd1\xf6\xf8ng") == "Đừng"
    # Windows-1258: the tone as a combining mark after the base letter, NFC afterwards
    assert decode_cp1258(b"Vi\xea\xf2t") == "Việt"
    # not a TCVN3 letter
    assert decode_tcvn3(b"\x81") is None


def test_policy_tries_the_declared_encodings_in_order_then_replaces():
    raw = encode_vni("Hường")
    assert decode_value(raw, ("vni",)) == ("Hường", "vni")
    assert decode_value(b"Nguy\x81\xff", ("vni", "tcvn3")) == ("Nguy\ufffd\ufffd", None)
    assert decode_value(raw, ()) == (raw.decode("utf-8", "replace"), None)


def test_declared_encodings_come_from_the_environment():
    env = {"DOISOAT_CIVIL_LEGACY_ENCODINGS": " TCVN3, windows-1258 ,vni"}
    assert legacy_encodings("civil", env) == ("tcvn3", "cp1258", "vni")
    assert legacy_encodings("social", env) == ()
    with pytest.raises(ValueError, match="DOISOAT_CIVIL_LEGACY_ENCODINGS: unknown encoding 'latin9'"):
        legacy_encodings("civil", {"DOISOAT_CIVIL_LEGACY_ENCODINGS": "latin9"})


def test_valid_batches_pass_untouched():
    batch = pa.record_batch({"a": ["Nguyễn", None, "x"], "b": ["1", "2", "3"]})
    repaired, issues, counts = repair_batch(batch, ("vni",))
    assert repaired is batch and issues == [] and counts == {}


def test_ingestion_decodes_declared_bytes_and_quarantines_the_rest(tmp_path):
    path = tmp_path / "vaccination.sqlite"
    con = sqlite3.connect(path)
    con.execute("create table doi_tuong (" + ", ".join(f"{c} varchar" for c in DOI_TUONG.raw_columns) + ")")
    rows = [("1", "Nguyễn Văn An"), ("2", encode_vni("Trần Thị Hường")), ("3", b"Nguy\x81\xff")]
    con.executemany("insert into doi_tuong (ma_doi_tuong, ho_ten) values (?, cast(? as text))", rows)
    con.commit()
    con.close()
    warehouse = duckdb.connect(str(tmp_path / "w.duckdb"))
    stats = ingest_table(
        warehouse, "vaccination", f"sqlite:///{path}", DOI_TUONG, dt.date(2026, 11, 25), legacy=("vni",)
    )
    assert (stats.rows_loaded, stats.values_decoded, stats.values_replaced, stats.rows_quarantined) == (3, 1, 1, 1)
    names = dict(warehouse.execute("select ma_doi_tuong, ho_ten from raw.vaccination__doi_tuong").fetchall())
    assert names == {"1": "Nguyễn Văn An", "2": "Trần Thị Hường", "3": "Nguy\ufffd\ufffd"}
    quarantined = warehouse.execute(
        "select source_record_id, reason, disposition, row_json from raw._quarantine"
    ).fetchall()
    assert quarantined == [
        (
            "3",
            "ho_ten: not valid UTF-8 nor vni; invalid bytes replaced",
            "loaded",
            '{"ho_ten":"Nguy\\\\x81\\\\xff","ma_doi_tuong":"3"}',
        )
    ]
