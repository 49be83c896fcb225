"""children — child records of the labour, invalids and social affairs sector (SOURCES.md)."""

from expectations.contracts.base import contract, source

CONTRACTS = (
    contract(
        "children",
        "tre_em",
        "ma_tre VARCHAR, ho_va_ten VARCHAR, ngay_sinh VARCHAR, gioi_tinh VARCHAR, ma_dinh_danh VARCHAR,"
        "ho_ten_me VARCHAR, cccd_me VARCHAR, ma_xa VARCHAR, ma_xa_cu VARCHAR, hoan_canh VARCHAR,"
        "ngay_ra_soat VARCHAR, cap_nhat VARCHAR",
        key="ma_tre",
        updated="cap_nhat",
        versioned=True,
    ),
)

SOURCE = source("children", CONTRACTS, "Trẻ em", "Children")
