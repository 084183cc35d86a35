"""Imports of real data into the data directory (CSV files -> parquet inputs of the data contract)."""
