"""civil — the civil-status registry, digitised from paper books (SOURCES.md)."""

from expectations.contracts.base import contract, source

CONTRACTS = (
    contract(
        "civil",
        "ho_tich",
        "id INTEGER, loai VARCHAR, quyen_so VARCHAR, so_dang_ky VARCHAR, ngay_dang_ky VARCHAR,"
        "noi_dang_ky VARCHAR, ho_ten VARCHAR, ngay_sinh VARCHAR, gioi_tinh VARCHAR, so_dinh_danh VARCHAR,"
        "ngay_chet VARCHAR, ho_ten_cha VARCHAR, ho_ten_me VARCHAR, ho_ten_2 VARCHAR, so_dinh_danh_2 VARCHAR,"
        "trang_thai_so_hoa VARCHAR, cap_nhat_luc VARCHAR",
        key="id",
        updated="cap_nhat_luc",
        versioned=True,
    ),
)

SOURCE = source("civil", CONTRACTS, "Hộ tịch", "Civil status")
