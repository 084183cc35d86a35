"""Where the SQL files live and how to read them: SQL_DIR is the one definition of the sql/ folder,
which the modules that walk a layer of it (the warehouse's macros, seeds and models, the catalog's
metrics, the engine's analyses, the store's fingerprint, the sandbox's known names) build on."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def read_sql(relative: Path) -> str:
    """Return the text of a file under sql/ (raises FileNotFoundError when it is not there)."""
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def quote_identifier(name: str) -> str:
    """Quote a column or view name for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Quote a string (a file path chosen by the operator) as a DuckDB literal."""
    return "'" + text.replace("'", "''") + "'"
