"""The source system's schema: the columns each landed table must have, their types, and which may be null."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceColumn:
    name: str
    sql_type: str  # DuckDB type the column is cast to
    nullable: bool = False
    identifier: bool = False  # an id: a whole number in [0, MAX_ID]


@dataclass(frozen=True)
class SourceTable:
    kind: str  # transactions | customers | products
    landing_prefix: str  # file-name prefix in the landing zone
    raw_table: str
    columns: tuple[SourceColumn, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


TRANSACTIONS = SourceTable(
    kind="transactions",
    landing_prefix="transacciones",
    raw_table="raw_transactions",
    columns=(
        SourceColumn("customer_id", "BIGINT", identifier=True),
        SourceColumn("product_id", "BIGINT", identifier=True),
        SourceColumn("order_id", "BIGINT", identifier=True),
        SourceColumn("purchase_date", "TIMESTAMP"),
        SourceColumn("items", "DOUBLE"),
    ),
)

CUSTOMERS = SourceTable(
    kind="customers",
    landing_prefix="clientes",
    raw_table="raw_customers",
    columns=(
        SourceColumn("customer_id", "BIGINT", identifier=True),
        SourceColumn("region_id", "BIGINT", identifier=True, nullable=True),
        SourceColumn("zone_id", "BIGINT", identifier=True, nullable=True),
        SourceColumn("customer_type", "VARCHAR", nullable=True),
        SourceColumn("Y", "DOUBLE", nullable=True),
        SourceColumn("X", "DOUBLE", nullable=True),
        SourceColumn("num_deliver_per_week", "BIGINT", nullable=True),
        SourceColumn("num_visit_per_week", "BIGINT", nullable=True),
    ),
)

PRODUCTS = SourceTable(
    kind="products",
    landing_prefix="productos",
    raw_table="raw_products",
    columns=(
        SourceColumn("product_id", "BIGINT", identifier=True),
        SourceColumn("brand", "VARCHAR", nullable=True),
        SourceColumn("category", "VARCHAR", nullable=True),
        SourceColumn("sub_category", "VARCHAR", nullable=True),
        SourceColumn("segment", "VARCHAR", nullable=True),
        SourceColumn("package", "VARCHAR", nullable=True),
        SourceColumn("size", "DOUBLE", nullable=True),
    ),
)

SOURCE_TABLES: dict[str, SourceTable] = {t.kind: t for t in (TRANSACTIONS, CUSTOMERS, PRODUCTS)}

# Lineage columns every raw table adds to the source columns.
LINEAGE_COLUMNS = (
    ("batch_id", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("file_hash", "VARCHAR"),
    ("source_row", "BIGINT"),
    ("ingested_at", "TIMESTAMP"),
)


# Ids travel to API clients as JSON numbers; JavaScript reads integers exactly only up to 2**53 - 1.
MAX_ID = 2**53 - 1

LANDING_SUFFIXES = (".parquet", ".csv")


def table_for_file_name(name: str) -> SourceTable | None:
    """The source table a landed file belongs to, or None if the name is not a landing file.

    The one definition of "is this a landing file?" (ingestion, the cycle's facts, `ovni up`): the name starts
    with a table's prefix and ends in `.parquet`/`.csv`, both in any case; dot-files and names ending in
    `.part`/`.tmp` (so `transacciones.csv.part`) are files still being written and never match.
    """
    lowered = name.lower()
    if lowered.startswith(".") or not lowered.endswith(LANDING_SUFFIXES):
        return None
    for table in SOURCE_TABLES.values():
        if lowered.startswith(table.landing_prefix):
            return table
    return None
