"""The five source databases exactly as SOURCES.md types them, and a fast batched writer."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

V = sa.VARCHAR


def _col(name: str, type_, pk: bool = False) -> sa.Column:
    kw = {"autoincrement": False} if pk and isinstance(type_, sa.Integer) else {}
    return sa.Column(name, type_, primary_key=pk, **kw)


def metadata(source: str) -> sa.MetaData:
    """The tables of one source database."""
    m = sa.MetaData()
    if source == "population":
        sa.Table(
            "citizen",
            m,
            _col("personal_id", V(12), pk=True),
            _col("full_name", V()),
            _col("birth_date", V(10)),
            _col("sex", sa.CHAR(1)),
            _col("ethnicity", V()),
            _col("commune_code", V(5)),
            _col("household_id", V()),
            _col("relation_to_head", V()),
            _col("legacy_id9", V()),
            _col("father_id", V(12)),
            _col("mother_id", V(12)),
            _col("status", V()),
            _col("death_date", V(10)),
            _col("updated_at", sa.TIMESTAMP()),
        )
        sa.Table(
            "household",
            m,
            _col("household_id", V(), pk=True),
            _col("commune_code", V(5)),
            _col("address_line", V()),
            _col("updated_at", sa.TIMESTAMP()),
        )
    elif source == "vaccination":
        sa.Table(
            "doi_tuong",
            m,
            _col("ma_doi_tuong", V(), pk=True),
            _col("ho_ten", V()),
            _col("ngay_sinh", V()),
            _col("gioi_tinh", V()),
            _col("so_giay_to", V()),
            _col("dien_thoai", V()),
            _col("ma_xa", V()),
            _col("ma_xa_cu", V()),
            _col("ngay_cap_nhat", V()),
        )
        sa.Table(
            "mui_tiem",
            m,
            _col("ma_mui", V(), pk=True),
            _col("ma_doi_tuong", V()),
            _col("ma_vac_xin", V()),
            _col("mui_thu", sa.INTEGER()),
            _col("ngay_tiem", V()),
            _col("co_so_tiem", V()),
        )
        sa.Table("ho_chieu_vac_xin", m, _col("ma_doi_tuong", V()), _col("ngay_ky", V()))
    elif source == "social":
        sa.Table(
            "BENEFICIARY",
            m,
            _col("BENEFICIARY_ID", sa.INTEGER(), pk=True),
            _col("FULL_NAME", V()),
            _col("DOB", sa.DATE()),
            _col("GENDER", sa.INTEGER()),
            _col("ID_NUMBER", V()),
            _col("CATEGORY", V()),
            _col("COMMUNE_CODE", V()),
            _col("COMMUNE_CODE_OLD", V()),
            _col("PAY_METHOD", V()),
            _col("BANK_ACCOUNT", V()),
            _col("MONTHLY_AMOUNT", sa.INTEGER()),
            _col("STATUS", V()),
            _col("UPDATED_AT", sa.TIMESTAMP()),
        )
        sa.Table(
            "PAYMENT",
            m,
            _col("PAYMENT_ID", sa.INTEGER(), pk=True),
            _col("BENEFICIARY_ID", sa.INTEGER()),
            _col("PERIOD", V()),
            _col("AMOUNT", sa.INTEGER()),
            _col("METHOD", V()),
            _col("PAID_AT", sa.DATE()),
        )
    elif source == "civil":
        sa.Table(
            "ho_tich",
            m,
            _col("id", sa.INTEGER(), pk=True),
            _col("loai", V()),
            _col("quyen_so", V()),
            _col("so_dang_ky", V()),
            _col("ngay_dang_ky", V()),
            _col("noi_dang_ky", V()),
            _col("ho_ten", V()),
            _col("ngay_sinh", V()),
            _col("gioi_tinh", V()),
            _col("so_dinh_danh", V()),
            _col("ngay_chet", V()),
            _col("ho_ten_cha", V()),
            _col("ho_ten_me", V()),
            _col("ho_ten_2", V()),
            _col("so_dinh_danh_2", V()),
            _col("trang_thai_so_hoa", V()),
            _col("cap_nhat_luc", V()),
        )
    elif source == "children":
        sa.Table(
            "tre_em",
            m,
            _col("ma_tre", V(), pk=True),
            _col("ho_va_ten", V()),
            _col("ngay_sinh", V()),
            _col("gioi_tinh", V()),
            _col("ma_dinh_danh", V()),
            _col("ho_ten_me", V()),
            _col("cccd_me", V()),
            _col("ma_xa", V()),
            _col("ma_xa_cu", V()),
            _col("hoan_canh", V()),
            _col("ngay_ra_soat", V()),
            _col("cap_nhat", V()),
        )
    else:
        raise ValueError(source)
    return m


SOURCES = ("population", "vaccination", "social", "civil", "children")
ENV = {s: f"DOISOAT_{s.upper()}_URL" for s in SOURCES}


def default_urls() -> dict[str, str]:
    """Source URLs from the environment, else the embedded SQLite defaults (relative to the cwd)."""
    return {s: os.environ.get(ENV[s]) or f"sqlite:///data/sources/{s}.sqlite" for s in SOURCES}


def make_engine(url: str) -> sa.Engine:
    """An engine; for SQLite the parent directory is created and durability switched off for speed."""
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    eng = sa.create_engine(u)
    if u.get_backend_name() == "sqlite":

        @sa.event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _rec):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=OFF")
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-131072")  # 128 MiB: primary-key B-trees of province tables fit
            cur.close()

    return eng


def _column_values(s: pd.Series, col: sa.Column, sqlite: bool) -> list:
    """Python values for one column (None for NULL) in the form the driver takes."""
    t = col.type
    if isinstance(t, sa.DATE):
        d = pd.to_datetime(s)
        if sqlite:
            v = d.dt.strftime("%Y-%m-%d")
        else:
            v = pd.Series(d.dt.date, dtype=object)
        return v.astype(object).where(d.notna(), None).tolist()
    if isinstance(t, sa.TIMESTAMP):
        d = pd.to_datetime(s)
        if sqlite:
            v = d.dt.strftime("%Y-%m-%d %H:%M:%S.000000")
        else:
            v = pd.Series(d.dt.to_pydatetime(), dtype=object)
        return v.astype(object).where(d.notna(), None).tolist()
    if isinstance(t, sa.Integer):
        v = pd.array(s, dtype="Int64")
        out = v.to_numpy(dtype="int64", na_value=0).tolist()  # Python ints
        for i in np.flatnonzero(v.isna()):
            out[i] = None
        return out
    o = s.astype(object)
    return o.where(o.notna(), None).tolist()


def write_source(
    url: str,
    source: str,
    tables: dict[str, pd.DataFrame],
    chunk: int = 50_000,
    on_rows: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Drop and recreate the source's tables and insert the frames in batches; return row counts."""
    m = metadata(source)
    eng = make_engine(url)
    sqlite = eng.dialect.name == "sqlite"
    counts = {}
    try:
        with eng.begin() as conn:
            m.drop_all(conn)
            m.create_all(conn)
        for name, table in m.tables.items():
            df = tables[name]
            cols = [c.name for c in table.columns]
            missing = set(cols) - set(df.columns)
            if missing:
                raise ValueError(f"{source}.{name}: missing columns {sorted(missing)}")
            prep = eng.dialect.identifier_preparer
            ph = "?" if eng.dialect.paramstyle == "qmark" else "%s"
            sql = (
                f"INSERT INTO {prep.format_table(table)} ({', '.join(prep.quote(c) for c in cols)}) "
                f"VALUES ({', '.join([ph] * len(cols))})"
            )
            with eng.begin() as conn:
                for start in range(0, len(df), chunk):
                    part = df.iloc[start : start + chunk]
                    values = [_column_values(part[c], table.c[c], sqlite) for c in cols]
                    rows = list(zip(*values, strict=True))
                    conn.exec_driver_sql(sql, rows)
                    if on_rows:
                        on_rows(len(rows))
            counts[f"{source}.{name}"] = len(df)
    finally:
        eng.dispose()
    return counts
