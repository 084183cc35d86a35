"""Where the SQL files live and how to read them: SQL_DIR is the one definition of the sql/ folder,
which the modules that walk a layer of it (the warehouse's macros, seeds and models, the catalog's
metrics, the engine's analyses, the store's fingerprint, the sandbox's known names) build on."""

from __future__ import annotations

import csv
import hashlib
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
# The folder of sql/ that holds one file per metric.
METRICS_FOLDER = "metrics"
# The folder of sql/ that holds one file per comment theme (each a metric too).
THEMES_FOLDER = "themes"
# Everything under sql/ that shapes a number: metric files, staging and mart views, macros and seeds.
_DEFINITION_SUFFIXES = (".sql", ".csv")


def seeds() -> tuple[str, ...]:
    """Return the seed tables: one per CSV file of sql/seeds/, named for the file."""
    return tuple(sorted(p.stem for p in (SQL_DIR / "seeds").glob("*.csv")))


def read_seed(name: str) -> list[dict[str, str]]:
    """Return a seed's rows as text, in file order, for Python that needs them before any database."""
    with (SQL_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def definitions_digest(folder: Path = SQL_DIR, skip: tuple[str, ...] = ()) -> str:
    """Return the SHA-256 of every definition file under `folder` (names and contents), less those in
    its subfolders `skip`: it changes when any metric's SQL, a view it reads, a macro or a seed
    changes. Exports name it; stores are keyed by it, with each metric file apart."""
    digest = hashlib.sha256()
    files = (p for p in folder.rglob("*") if p.suffix in _DEFINITION_SUFFIXES)
    for path in sorted(p for p in files if p.relative_to(folder).parts[0] not in skip):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


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
