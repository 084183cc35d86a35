"""DuckDB column types as polars holds them: the one map the warehouse reads results with and the
data contract writes inputs with."""

from __future__ import annotations

import re

import polars as pl

# DuckDB types read straight into polars (Warehouse.frame); any other comes through Arrow.
POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "DOUBLE": pl.Float64(),
    "FLOAT": pl.Float32(),
    "BIGINT": pl.Int64(),
    "INTEGER": pl.Int32(),
    "SMALLINT": pl.Int16(),
    "TINYINT": pl.Int8(),
    "UBIGINT": pl.UInt64(),
    "UINTEGER": pl.UInt32(),
    "BOOLEAN": pl.Boolean(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
    "HUGEINT": pl.Int128(),
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")


def polars_type(duckdb_type: str) -> pl.DataType | None:
    """Return the polars type of a DuckDB result type (lists of them too), or None when it has none
    here (Warehouse.frame then reads the result through Arrow)."""
    if duckdb_type.endswith("[]"):
        inner = polars_type(duckdb_type[:-2])
        return pl.List(inner) if inner is not None else None
    decimal = _DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return pl.Decimal(int(decimal[1]), int(decimal[2]))
    return POLARS_TYPES.get(duckdb_type)
