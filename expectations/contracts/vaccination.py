"""vaccination — the national immunisation information system (SOURCES.md)."""

from expectations.contracts.base import contract, source

CONTRACTS = (
    contract(
        "vaccination",
        "doi_tuong",
        "ma_doi_tuong VARCHAR, ho_ten VARCHAR, ngay_sinh VARCHAR, gioi_tinh VARCHAR, so_giay_to VARCHAR,"
        "dien_thoai VARCHAR, ma_xa VARCHAR, ma_xa_cu VARCHAR, ngay_cap_nhat VARCHAR",
        key="ma_doi_tuong",
        updated="ngay_cap_nhat",
        versioned=True,
    ),
    contract(
        "vaccination",
        "mui_tiem",
        "ma_mui VARCHAR, ma_doi_tuong VARCHAR, ma_vac_xin VARCHAR, mui_thu INTEGER, ngay_tiem VARCHAR,"
        "co_so_tiem VARCHAR",
        key="ma_mui",
    ),
    contract("vaccination", "ho_chieu_vac_xin", "ma_doi_tuong VARCHAR, ngay_ky VARCHAR"),
)

SOURCE = source("vaccination", CONTRACTS, "Tiêm chủng", "Vaccination")
