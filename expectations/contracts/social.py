"""social — social-protection beneficiaries, an Oracle-style system with upper-case names (SOURCES.md)."""

from expectations.contracts.base import contract, source

CONTRACTS = (
    contract(
        "social",
        "BENEFICIARY",
        "BENEFICIARY_ID INTEGER, FULL_NAME VARCHAR, DOB DATE, GENDER INTEGER, ID_NUMBER VARCHAR,"
        "CATEGORY VARCHAR, COMMUNE_CODE VARCHAR, COMMUNE_CODE_OLD VARCHAR, PAY_METHOD VARCHAR,"
        "BANK_ACCOUNT VARCHAR, MONTHLY_AMOUNT INTEGER, STATUS VARCHAR, UPDATED_AT TIMESTAMP",
        key="BENEFICIARY_ID",
        updated="UPDATED_AT",
        versioned=True,
    ),
    contract(
        "social",
        "PAYMENT",
        "PAYMENT_ID INTEGER, BENEFICIARY_ID INTEGER, PERIOD VARCHAR, AMOUNT INTEGER, METHOD VARCHAR, PAID_AT DATE",
        key="PAYMENT_ID",
    ),
)

SOURCE = source("social", CONTRACTS, "Bảo trợ xã hội", "Social protection")
