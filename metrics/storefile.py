"""The store file's own tables, read and written here alone: its cubes (`cx_cubes`), what it was
built from (`cx_built`: the code, each input's files and each metric as digests), what loading each
input found (`cx_inputs`, `cx_problems`), so a start that serves from the store reads no parquet, the
models it keeps unsorted (`cx_unsorted`: the first start's store, built for speed), the columns of
each metric's rows (`cx_columns`), so a start does not bind every metric's SQL again, and those of
each cube table and of the tables pages read, the comments' and their topics' (`cx_tables`), so a
page's first read of one does not bind it either, and a page knows which of them the store holds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from metrics.errors import Problem


@dataclass(frozen=True)
class Cube:
    """One metric's totals grouped by some dimensions: the rows of one grain of the metric's cube
    table (`grain`), or a table of its own (an analysis's sums: grain None)."""

    metric: str
    table: str
    dimensions: frozenset[str]
    rows: int
    grain: int | None = None


@dataclass(frozen=True)
class Fingerprint:
    """What a store is built from: the code (DuckDB, grains, every SQL file but the metric files,
    the Python of _CODE_FILES), each metric (its aggregate and SQL) and each input's files (path,
    size, modification time), each as a digest."""

    code: str
    inputs: dict[str, str]
    metrics: dict[str, str] = field(default_factory=dict)

    def path(self, store_dir: Path) -> Path:
        """Return the file a store built from this lives in: a change to any part points to a new file."""
        digest = hashlib.sha256(self.code.encode())
        for name, value in sorted(self.inputs.items()):
            digest.update(f"{name} {value}\n".encode())
        for name, value in sorted(self.metrics.items()):
            digest.update(f"metric {name} {value}\n".encode())
        return store_dir / f"store-{digest.hexdigest()[:20]}.duckdb"


@dataclass(frozen=True)
class MetricColumns:
    """The columns (name -> type) of one metric's rows as the build bound its SQL, and the digest of
    that metric (store.metric_digest): they are the current metric's only while the digest is."""

    metric: str
    digest: str
    columns: dict[str, str]


@dataclass(frozen=True)
class StoredInput:
    """What loading one input found: its columns (name -> type), whether it is usable, how many rows
    were rejected and the problems."""

    name: str
    columns: dict[str, str]
    usable: bool
    rejected: int
    problems: tuple[Problem, ...]


def write(
    con: duckdb.DuckDBPyConnection,
    alias: str,
    cubes: Iterable[Cube],
    inputs: Iterable[StoredInput],
    built_from: Fingerprint,
    unsorted: Iterable[str] = (),
    columns: Iterable[MetricColumns] = (),
    read: Iterable[str] = (),
) -> None:
    """Record in the store attached as `alias` what it holds, what it was built from (for a later
    build to tell what it can take from it), what loading each input found, which models it keeps
    `unsorted` (a later build that copies one sorts it), the `columns` of each metric's rows and
    those of each cube's table and of the other tables pages `read` (the comments' and their
    topics'), where held."""
    found, kept = list(inputs), list(cubes)
    built = [("code", "", built_from.code)]
    for kind, digests in (("input", built_from.inputs), ("metric", built_from.metrics)):
        built += [(kind, name, digest) for name, digest in digests.items()]
    _create_table(con, f"{alias}.cx_built", {"kind": pl.Utf8, "name": pl.Utf8, "digest": pl.Utf8}, built)
    _create_table(
        con,
        f"{alias}.cx_cubes",
        {
            "metric": pl.Utf8,
            "table_name": pl.Utf8,
            "dimensions": pl.Utf8,
            "row_count": pl.Int64,
            "grain": pl.Int32,
        },
        [(c.metric, c.table, json.dumps(sorted(c.dimensions)), c.rows, c.grain) for c in kept],
    )
    _create_table(
        con,
        f"{alias}.cx_inputs",
        {"input": pl.Utf8, "columns": pl.Utf8, "usable": pl.Boolean, "rejected": pl.Int64},
        [(i.name, json.dumps(i.columns), i.usable, i.rejected) for i in found],
    )
    _create_table(
        con,
        f"{alias}.cx_problems",
        {"input": pl.Utf8, "source": pl.Utf8, "message": pl.Utf8},
        [(i.name, p.source, p.message) for i in found for p in i.problems],
    )
    _create_table(con, f"{alias}.cx_unsorted", {"model": pl.Utf8}, [(name,) for name in sorted(unsorted)])
    _create_table(
        con,
        f"{alias}.cx_columns",
        {"metric": pl.Utf8, "digest": pl.Utf8, "columns": pl.Utf8},
        [(c.metric, c.digest, json.dumps(c.columns)) for c in columns],
    )
    tables = _table_columns(con, alias, {c.table for c in kept} | set(read))
    _create_table(
        con,
        f"{alias}.cx_tables",
        {"table_name": pl.Utf8, "columns": pl.Utf8},
        [(name, json.dumps(tables[name])) for name in sorted(tables)],
    )


def _table_columns(con: duckdb.DuckDBPyConnection, alias: str, names: set[str]) -> dict[str, dict[str, str]]:
    """Return the columns (name -> type, in order) of the tables `names` of the store attached as
    `alias`, read from its catalog in one statement."""
    found: dict[str, dict[str, str]] = {}
    for table, column, kind in con.execute(
        "select table_name, column_name, data_type from duckdb_columns()"
        " where database_name = ? order by table_name, column_index",
        [alias],
    ).fetchall():
        if table in names:
            found.setdefault(str(table), {})[str(column)] = str(kind)
    return found


def _create_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    schema: dict[str, type[pl.DataType]],
    rows: Sequence[tuple[object, ...]],
) -> None:
    """Create `table` of `schema` holding `rows`, in one statement: a store holds a thousand cubes or
    more, and as many single-row inserts into its file took about 2 ms each (3 s in all)."""
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    cursor = con.cursor()
    cursor.register("cx_rows", frame)
    cursor.execute(f"create table {table} as select * from cx_rows")
    cursor.unregister("cx_rows")


def read_description(
    path: Path,
) -> tuple[dict[str, tuple[Cube, ...]], dict[str, MetricColumns], dict[str, dict[str, str]]] | None:
    """Return the cubes of the store at `path` by metric (or analysis key), shortest first, the
    columns of each metric's rows it recorded and those of its cube tables and the tables pages read
    (none for a store from before they were: each is then bound as asked); None when there is no
    store there."""
    if not path.is_file():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        cubes: dict[str, list[Cube]] = {}
        for metric, table, dimensions, rows, grain in con.execute(
            "select metric, table_name, dimensions, row_count, grain from cx_cubes order by metric, row_count"
        ).fetchall():
            cubes.setdefault(metric, []).append(
                Cube(metric, table, frozenset(json.loads(dimensions)), rows, grain)
            )
        found = _recorded(con, "select metric, digest, columns from cx_columns")
        tables = _recorded(con, "select table_name, columns from cx_tables")
    columns = {str(m): MetricColumns(str(m), str(d), json.loads(c)) for m, d, c in found}
    return (
        {m: tuple(c) for m, c in cubes.items()},
        columns,
        {str(t): json.loads(c) for t, c in tables},
    )


def _recorded(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    """Return the rows of a table a store from before it was recorded lacks: none there."""
    try:
        return con.execute(sql).fetchall()
    except duckdb.CatalogException:
        return []


def read_built(path: Path) -> Fingerprint | None:
    """Return what the store at `path` was built from, or None when it cannot be read (an older
    format, a damaged or vanished file)."""
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute("select kind, name, digest from cx_built").fetchall()
    except (duckdb.Error, OSError):
        return None
    parts: dict[str, dict[str, str]] = {"code": {}, "input": {}, "metric": {}}
    for kind, name, digest in rows:
        parts.setdefault(str(kind), {})[str(name)] = str(digest)
    return Fingerprint(parts["code"].get("", ""), parts["input"], parts["metric"])


def read_unsorted(path: Path) -> frozenset[str]:
    """Return the models the store at `path` keeps unsorted; none for a store from before they were
    recorded, whose models are all sorted, or one that cannot be read."""
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return frozenset(str(row[0]) for row in con.execute("select model from cx_unsorted").fetchall())
    except (duckdb.Error, OSError):
        return frozenset()


def read_inputs(con: duckdb.DuckDBPyConnection, alias: str) -> dict[str, StoredInput]:
    """Return what loading each input found, from the store attached as `alias`."""
    problems: dict[str, list[Problem]] = {}
    for name, source, message in con.execute(
        f"select input, source, message from {alias}.cx_problems"
    ).fetchall():
        problems.setdefault(str(name), []).append(Problem(source, message))
    found = con.execute(f"select input, columns, usable, rejected from {alias}.cx_inputs").fetchall()
    return {
        str(name): StoredInput(
            str(name), json.loads(columns), bool(usable), int(rejected), tuple(problems.get(name, ()))
        )
        for name, columns, usable, rejected in found
    }
