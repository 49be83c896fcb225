"""population — the national population master (SOURCES.md)."""

from expectations.contracts.base import contract, source

CONTRACTS = (
    contract(
        "population",
        "citizen",
        "personal_id VARCHAR, full_name VARCHAR, birth_date VARCHAR, sex VARCHAR, ethnicity VARCHAR,"
        "commune_code VARCHAR, household_id VARCHAR, relation_to_head VARCHAR, legacy_id9 VARCHAR,"
        "father_id VARCHAR, mother_id VARCHAR, status VARCHAR, death_date VARCHAR, updated_at TIMESTAMP",
        key="personal_id",
        updated="updated_at",
        versioned=True,
    ),
    contract(
        "population",
        "household",
        "household_id VARCHAR, commune_code VARCHAR, address_line VARCHAR, updated_at TIMESTAMP",
        key="household_id",
        updated="updated_at",
    ),
)

SOURCE = source("population", CONTRACTS, "Dân cư (CSDLQG)", "Population (master)", master=True)
