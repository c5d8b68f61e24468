"""Metadata a person reads in the Dagster UI: row counts, described column schemas, markdown previews."""

import dagster as dg
import duckdb

from ovni_assets.columns import column_description
from ovni_assets.warehouse import column_schema, row_count


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, preview_rows: int = 5
) -> dict[str, dg.MetadataValue]:
    """Row count, column schema (with what each column means) and a small markdown preview of a table."""
    columns = column_schema(con, table)
    preview = con.execute(f'SELECT * FROM "{table}" LIMIT {preview_rows}').df()
    return {
        "dagster/row_count": dg.MetadataValue.int(row_count(con, table)),
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name=name, type=sql_type, description=column_description(table, name))
                for name, sql_type in columns
            ]
        ),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_empty_"),
    }
