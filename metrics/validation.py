"""Data-contract checks on one input's raw rows: columns present, types readable, values allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from metrics.contract import MAX_TEXT_LENGTH, Column, Input
from metrics.errors import Problem
from metrics.sqlfiles import quote_identifier, read_sql

# DuckDB type names of the raw parquet column that can be read as each contract type.
_INTEGERS = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)
_FLOATS = ("FLOAT", "DOUBLE", "DECIMAL")
_READABLE_AS: dict[str, tuple[str, ...]] = {
    "VARCHAR": ("VARCHAR",),
    "TINYINT": _INTEGERS + _FLOATS,  # floats only when every value is whole, checked below
    "INTEGER": _INTEGERS + _FLOATS,
    "BIGINT": _INTEGERS + _FLOATS,
    "DOUBLE": _INTEGERS + _FLOATS,
    "BOOLEAN": ("BOOLEAN",),
    # With a zone, a timestamp is converted to the agency's time zone as it is read (warehouse).
    "TIMESTAMP": (
        "TIMESTAMP",
        "TIMESTAMP_NS",
        "TIMESTAMP_MS",
        "TIMESTAMP_S",
        "DATE",
        "TIMESTAMP WITH TIME ZONE",
    ),
}
_TYPE_WORDS = {
    "VARCHAR": "text",
    "TINYINT": "a whole number",
    "INTEGER": "a whole number",
    "BIGINT": "a whole number",
    "DOUBLE": "a number",
    "BOOLEAN": "true/false",
    "TIMESTAMP": "a timestamp",
}


def _base_type(duckdb_type: str) -> str:
    return duckdb_type.split("(")[0].strip().upper()


def check_columns(source: str, spec: Input, found: dict[str, str]) -> list[Problem]:
    """Return a problem for each contract column missing from `found` (name -> type) or of the wrong type."""
    problems = []
    for column in spec.columns:
        if column.name not in found:
            if not column.optional:
                problems.append(Problem(source, f"missing column '{column.name}' ({column.type})"))
            continue
        actual = _base_type(found[column.name])
        if actual not in _READABLE_AS[column.type]:
            problems.append(
                Problem(
                    source,
                    f"column '{column.name}' has type {actual}; expected {column.type} "
                    f"({_TYPE_WORDS[column.type]})",
                )
            )
    return problems


def _range_text(column: Column) -> str:
    low = "" if column.minimum is None else f"{column.minimum:g}"
    high = "" if column.maximum is None else f"{column.maximum:g}"
    if low and high:
        return f"outside {low}-{high}"
    return f"below {low}" if low else f"above {high}"


def shorten(value: str | None, limit: int = 60) -> str | None:
    """Return a value short enough to quote in a message; a longer one is cut and its length given."""
    if value is None or len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value):,} characters)"


def _describe_problem(column: Column, kind: str, value: str | None, rows: int, latest: datetime) -> str:
    where = f"column '{column.name}'"
    count = f"{rows} row{'s' if rows != 1 else ''}"
    value = shorten(value)
    if kind == "too_long":
        return f"{where}: value '{value}' is longer than {MAX_TEXT_LENGTH:,} characters ({count})"
    if kind == "future":
        return f"{where}: value {value} is in the future, after {latest:%Y-%m-%d %H:%M} ({count})"
    if kind == "null":
        return f"{where} is empty in {count}; it must always have a value"
    if kind == "not_allowed":
        allowed = ", ".join(column.allowed or ())
        return f"{where}: value '{value}' is not allowed ({count}); allowed: {allowed}"
    if kind == "not_whole":
        return f"{where}: value {value} is not a whole number ({count})"
    return f"{where}: value {value} is {_range_text(column)} ({count})"


@dataclass(frozen=True)
class Checked:
    """What the contract checks found in one input's rows: a problem per rule broken (with the rows it
    affects) and how many rows break at least one rule."""

    problems: list[Problem]
    rejected: int


def check_values(
    con: duckdb.DuckDBPyConnection, source: str, spec: Input, relation: str, found: dict[str, str]
) -> list[Problem]:
    """Return a problem for each value of `relation` (a table) that breaks the contract, up to 5 per
    column and rule; the rows are left as they are."""
    return _check(con, source, spec, relation, found, reject=False).problems


def reject_rows(
    con: duckdb.DuckDBPyConnection,
    source: str,
    spec: Input,
    relation: str,
    found: dict[str, str],
    database: str | None = None,
) -> Checked:
    """Check `relation` (a table holding an input's rows, in the attached `database` if given) and
    delete every row that breaks a rule, so the rest can be served; return the problems and the
    number of rows deleted."""
    return _check(con, source, spec, relation, found, reject=True, database=database)


def _check(
    con: duckdb.DuckDBPyConnection,
    source: str,
    spec: Input,
    relation: str,
    found: dict[str, str],
    reject: bool,
    database: str | None = None,
) -> Checked:
    # The table's name as SQL reads it: quoted, and qualified by its database when attached.
    table = quote_identifier(relation)
    if database is not None:
        table = f"{quote_identifier(database)}.{table}"
    # Each check writes the ids of the rows it finds to checked_rows; every id is kept in
    # rejected_rows, and the messages come from a summary of checked_rows.
    con.execute("create or replace temp table rejected_rows (row_id bigint)")
    try:
        problems = _check_columns(con, source, spec, table, found)
        problems += _check_key(con, source, spec, table)
        problems += _check_rows(con, source, spec, table)
        row = con.execute("select count(distinct row_id) from rejected_rows").fetchone()
        rejected = int(row[0]) if row else 0
        if reject and rejected:
            con.execute(f"delete from {table} where rowid in (select row_id from rejected_rows)")
        return Checked(problems, rejected)
    finally:
        con.execute("drop table if exists checked_rows")
        con.execute("drop table if exists rejected_rows")


def _found_rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None) -> None:
    """Keep the rows a check finds in checked_rows, and their ids among the rejected."""
    con.execute(f"create or replace temp table checked_rows as {sql}", params or {})
    con.execute("insert into rejected_rows select row_id from checked_rows")


def _check_columns(
    con: duckdb.DuckDBPyConnection, source: str, spec: Input, table: str, found: dict[str, str]
) -> list[Problem]:
    template = read_sql(Path("checks/column.sql"))
    latest = datetime.now().replace(microsecond=0)  # timestamps are agency local time, as is this
    # A defaulted column holds only its default.
    checked = [column for column in spec.columns if column.name in found]
    if not checked:
        return []
    # One statement for every column: with a statement per column (and two to keep its finds), loading
    # four inputs of two rows took 0.8 s, against 0.5 s so (most of it planning, whatever the size).
    parts: list[str] = []
    params: dict[str, object] = {}
    for n, column in enumerate(checked):
        parts.append(f"({template.format(relation=table, column=quote_identifier(column.name), n=n)})")
        params |= {
            f"nullable{n}": column.nullable,
            f"check_allowed{n}": column.allowed is not None,
            f"allowed{n}": list(column.allowed or ()),
            f"minimum{n}": column.minimum,
            f"maximum{n}": column.maximum,
            f"whole{n}": column.type in ("TINYINT", "INTEGER", "BIGINT"),
            f"max_length{n}": MAX_TEXT_LENGTH if column.type == "VARCHAR" else None,
            f"latest{n}": latest if column.type == "TIMESTAMP" else None,
        }
    _found_rows(con, "\nunion all\n".join(parts), params)
    return [
        Problem(source, _describe_problem(checked[n], kind, value, rows, latest))
        for n, kind, value, rows in con.execute(read_sql(Path("checks/summary_column.sql"))).fetchall()
    ]


def _check_key(con: duckdb.DuckDBPyConnection, source: str, spec: Input, table: str) -> list[Problem]:
    if "," in spec.key:
        return []  # a composite key (collections) is checked by its own row rules
    names = {"relation": table, "key": quote_identifier(spec.key)}
    con.execute(
        f"create or replace temp table duplicate_keys as {read_sql(Path('checks/duplicate_keys.sql')).format(**names)}"
    )
    try:
        # Every copy of a repeated id is rejected: which one is right cannot be told.
        _found_rows(con, read_sql(Path("checks/duplicate_rows.sql")).format(**names))
        return [
            Problem(
                source,
                f"column '{spec.key}': value '{shorten(value)}' appears {rows} times; ids must be unique",
            )
            for value, rows in con.execute(read_sql(Path("checks/summary_keys.sql"))).fetchall()
        ]
    finally:
        con.execute("drop table duplicate_keys")


def _check_rows(con: duckdb.DuckDBPyConnection, source: str, spec: Input, table: str) -> list[Problem]:
    rules = Path(f"checks/rows_{spec.name}.sql")
    try:
        sql = read_sql(rules).format(relation=table)
    except FileNotFoundError:
        return []
    _found_rows(con, sql)
    rows = con.execute(read_sql(Path("checks/summary_rules.sql"))).fetchall()
    return [
        Problem(
            source,
            f"column '{column}': value {shorten(value)} {rule} ({count} row{'s' if count != 1 else ''})",
        )
        for column, value, rule, count in rows
    ]
