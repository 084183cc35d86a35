"""Spark as the build engine where the data lives: the project's own DuckDB SQL (staging, marts, each
metric's rows and its cube table, composed by metrics/composition.py) transpiled to Spark SQL by
sqlglot, run on a SparkSession over inputs at any path Spark reads (local, s3a://, abfss://), and the
cube tables written as parquet with a manifest. `cx build --from-spark DIR` loads them into the
DuckDB store the dashboard serves (metrics/store.py). Serving stays DuckDB.

pyspark is an optional extra (`pip install '.[spark]'`): only `build` imports it. Transpiling and
checking a metric's SQL for Spark need sqlglot alone, so `cx check` names a metric file Spark cannot
run on any machine."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from metrics import composition, contract
from metrics.catalog import Catalog, Metric, source_name
from metrics.dimensions import DIMENSIONS
from metrics.errors import CxError, Problem
from metrics.sqlfiles import SQL_DIR, quote_literal, seeds
from metrics.store import cube_table_name, grains_of
from metrics.warehouse import empty_relation, in_dependency_order, inputs_read

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MANIFEST = "manifest.json"
JOBS = 4  # metrics whose cube tables Spark builds at once
CUBES = "cubes"
INPUTS = "inputs"
_MACRO = re.compile(r"create or replace macro (\w+)\(([^)]*)\) as\s+(.*?);", re.DOTALL | re.IGNORECASE)
# What sqlglot's Spark output must never hold: DuckDB's own syntax, which Spark would reject or read
# otherwise. Functions sqlglot does not know are found apart (`unknown_functions`).
_DUCKDB_ONLY = (
    (re.compile(r"\bCOLUMNS\s*\(", re.IGNORECASE), "COLUMNS(...)"),
    (re.compile(r"\*\s*EXCEPT\s*\(", re.IGNORECASE), "* EXCLUDE (...)"),
    (re.compile(r"\bBY\s+NAME\b", re.IGNORECASE), "UNION ... BY NAME"),
    (re.compile(r"\bMATERIALIZED\b", re.IGNORECASE), "AS MATERIALIZED"),
    (re.compile(r"::"), "::"),
)
# Spark's column types as the record key (composition.record_key) and the type checks name them.
_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "double": "DOUBLE",
    "float": "FLOAT",
}


@cache
def _macros() -> dict[str, tuple[tuple[str, ...], exp.Expr]]:
    """The macros of sql/macros/, each with its parameters and its body parsed as DuckDB SQL."""
    found = {}
    for path in sorted((SQL_DIR / "macros").glob("*.sql")):
        text = "\n".join(
            line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("--")
        )
        for name, params, body in _MACRO.findall(text):
            names = tuple(p.strip() for p in params.split(",") if p.strip())
            found[name.lower()] = (names, sqlglot.parse_one(body, read="duckdb"))
    return found


def _inline(tree: exp.Expr) -> exp.Expr:
    """Replace each call of a macro of sql/macros/ by its body, its parameters by the call's
    arguments (each in parentheses), until none is left: Spark SQL has no macros."""
    macros = _macros()

    def replace(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Anonymous) or str(node.name).lower() not in macros:
            return node
        params, body = macros[str(node.name).lower()]
        args = dict(zip(params, node.expressions, strict=True))

        def bind(inner: exp.Expr) -> exp.Expr:
            if isinstance(inner, exp.Column) and not inner.table and inner.name in args:
                return exp.paren(args[inner.name].copy(), copy=False)
            return inner

        return _inline(body.copy().transform(bind))

    return tree.transform(replace)


def to_spark(sql: str, columns_of: Callable[[str], list[str]] | None = None) -> str:
    """Return a DuckDB SQL text of this project as Spark SQL: macros inlined, CTEs no longer
    marked materialized (Spark plans them itself), `* exclude (...)` and `* replace (...)` over one
    view written out as its columns (`columns_of` names a view's), the rest transpiled by sqlglot."""
    return _spark_text(sqlglot.parse_one(sql, read="duckdb"), columns_of)


def _spark_text(parsed: exp.Expr, columns_of: Callable[[str], list[str]] | None = None) -> str:
    """Return the Spark SQL of a parsed DuckDB SQL text (to_spark), leaving `parsed` as it was."""
    tree = _inline(parsed)
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    if columns_of is not None:
        for star in list(tree.find_all(exp.Star)):
            _expand(star, columns_of)
    return tree.sql(dialect="spark")


def _expand(star: exp.Star, columns_of: Callable[[str], list[str]]) -> None:
    """Write a `*` with EXCLUDE or REPLACE out as the columns of the one view its select reads."""
    excluded, replaced = star.args.get("except_"), star.args.get("replace")
    select = star.parent
    if not (excluded or replaced) or not isinstance(select, exp.Select):
        return
    source = select.args.get("from_") or select.args.get("from")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or select.args.get("joins"):
        return
    names = columns_of(table.name)
    if not names:
        return  # not a view (a CTE, say): Spark names what it cannot read
    dropped = {c.name for c in excluded or ()}
    instead = {a.alias: a for a in replaced or ()}
    written = [
        instead[name].copy() if name in instead else exp.column(name, quoted=True)
        for name in names
        if name not in dropped
    ]
    select.set("expressions", [e for x in select.expressions for e in (written if x is star else [x])])


def unknown_functions(tree: exp.Expr) -> list[str]:
    """Return the functions of a parsed DuckDB SQL text that sqlglot does not know how to write in
    Spark's dialect, other than the macros of sql/macros/ (which are inlined)."""
    macros = _macros()
    return sorted({str(f.name) for f in tree.find_all(exp.Anonymous) if str(f.name).lower() not in macros})


@lru_cache(maxsize=256)
def spark_problems(sql: str) -> tuple[str, ...]:
    """Say what in a DuckDB SQL text of this project Spark cannot run once transpiled: a function
    sqlglot does not know, DuckDB-only syntax left in the Spark text, or a text Spark's dialect does not
    parse back. Empty when it transpiles cleanly. (A cube's text takes sqlglot most of a second to
    parse: it is parsed once here, and a text checked before in this process is not checked again.)"""
    try:
        parsed = sqlglot.parse_one(sql, read="duckdb")
        unknown = unknown_functions(parsed)
        spark = _spark_text(parsed)
    except sqlglot.errors.SqlglotError as error:
        return (f"does not transpile to Spark SQL ({str(error).splitlines()[0]})",)
    found = [f"function {name}() has no known Spark equivalent" for name in unknown]
    found += [f"{shown} is DuckDB-only" for pattern, shown in _DUCKDB_ONLY if pattern.search(spark)]
    try:
        sqlglot.parse_one(spark, read="spark")
    except sqlglot.errors.SqlglotError as error:
        found.append(f"its Spark SQL does not parse ({str(error).splitlines()[0]})")
    return tuple(found)


def check_metrics(catalog: Catalog, columns: Callable[[Metric], Mapping[str, str]]) -> list[Problem]:
    """Return a problem for each metric whose cube SQL Spark cannot run (`spark_problems`), named by
    its file: `columns` gives the columns (and types) of a metric's rows."""
    problems = []
    for metric in catalog.metrics.values():
        try:
            found = columns(metric)
        except Exception:  # SQL that does not bind is named by the metric checks
            continue
        grains = grains_of(metric.name, tuple(d for d in DIMENSIONS if d in found)) or [()]
        sql = composition.cube_sql(
            metric.sql, found, metric.aggregate, grains, composition.sums(metric.aggregate)
        )
        for said in spark_problems(sql):
            problems.append(Problem(source_name(metric.path), f"cannot be built on Spark: {said}"))
    return problems


@dataclass(frozen=True)
class SparkCube:
    """One metric's cube table as Spark wrote it (a parquet folder under cubes/), with its grains."""

    metric: str
    table: str
    grains: tuple[tuple[str, ...], ...]


def read_manifest(folder: Path) -> dict[str, SparkCube]:
    """Return the cubes a Spark build wrote to `folder`, by metric; a folder that is not one is named."""
    path = folder / MANIFEST
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        return {
            c["metric"]: SparkCube(str(c["metric"]), str(c["table"]), tuple(tuple(g) for g in c["grains"]))
            for c in found["cubes"]
        }
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CxError(f"{path}: not the manifest of a Spark build ({error})") from None


def session(master: str | None = None) -> SparkSession:
    """Return the active SparkSession (spark-submit's), or a new one on `master` (e.g. local[2])."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise CxError(
            "Spark is an optional extra: pip install '.[spark]' (pyspark, with Java 17 or later)"
        ) from None
    # Our own progress lines say what is built; Spark's console bars would garble them.
    builder = SparkSession.builder.appName("cx build").config("spark.ui.showConsoleProgress", "false")
    if master:
        builder = builder.master(master)
        if master.startswith("local"):
            # One machine's cores: a few shuffle partitions, not a cluster's default of 200.
            builder = builder.config("spark.sql.shuffle.partitions", "4")
    spark = builder.getOrCreate()
    # Timestamps are read as written (wall-clock, agency time): no zone may move one across a quarter.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.ansi.enabled", "false")  # DuckDB's casts: a bad value is null, not an error
    return spark


def build(
    spark: SparkSession,
    data: str,
    out: str,
    catalog: Catalog,
    progress: Callable[[str], None] | None = None,
) -> dict[str, SparkCube]:
    """Build every metric's cube table on Spark from the inputs at `data` (a folder or URL Spark reads:
    `<input>.parquet` or `<input>/`), writing each as parquet under `out`/cubes/, the inputs' rows as
    read under `out`/inputs/ and the manifest of the cubes."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    usable = _register_inputs(spark, data.rstrip("/"), say)
    for name in sorted(usable):
        # The rows as read, for the store's copy of each input (`cx build --from-spark` reads them).
        spark.table(f"raw_{name}").write.mode("overwrite").parquet(f"{out.rstrip('/')}/{INPUTS}/{name}")
        say(f"{name}: rows written to {out.rstrip('/')}/{INPUTS}/{name}")
    for seed in seeds():
        frame = spark.read.csv(str(SQL_DIR / "seeds" / f"{seed}.csv"), header=True, inferSchema=True)
        frame.createOrReplaceTempView(seed)
    # Which inputs each view reads, as the warehouse keeps it: a metric over a missing one is skipped.
    reads = {f"raw_{name}": frozenset({name}) for name in contract.INPUTS}
    reads.update({seed: frozenset() for seed in seeds()})
    for layer in ("staging", "marts"):
        for model in in_dependency_order(sorted((SQL_DIR / layer).glob("*.sql"))):
            text = model.read_text(encoding="utf-8")
            spark.sql(to_spark(text)).createOrReplaceTempView(model.stem)
            reads[model.stem] = inputs_read(text, reads)
            say(f"{layer} {model.stem}: defined")
    built: list[Metric] = []
    for metric in catalog.metrics.values():
        needed = inputs_read(metric.sql, reads)
        if needed <= usable:
            built.append(metric)
        else:
            say(f"{metric.name}: skipped, it reads {', '.join(sorted(needed - usable))}, which is missing")

    def cube(metric: Metric) -> SparkCube:
        step = time.perf_counter()
        written = _cube(spark, metric, f"{out.rstrip('/')}/{CUBES}")
        say(f"{metric.name}: cube table written ({time.perf_counter() - step:.1f}s)")
        return written

    # Several metrics at once: much of a small metric's time is the driver planning its job and
    # starting it, which overlaps with another metric's job running on the executors.
    with ThreadPoolExecutor(JOBS) as workers:
        cubes = {c.metric: c for c in workers.map(cube, built)}
    found = [
        {"metric": c.metric, "table": c.table, "grains": [list(g) for g in c.grains]} for c in cubes.values()
    ]
    manifest = json.dumps({"cubes": found}, indent=1)
    _write_text(spark, f"{out.rstrip('/')}/{MANIFEST}", manifest)
    say(f"built on Spark in {time.perf_counter() - started:.1f}s: {len(cubes)} cube tables in {out}")
    return cubes


def _register_inputs(spark: SparkSession, data: str, say: Callable[[str], None]) -> frozenset[str]:
    """Register each input found at `data` as the view `raw_<input>`, every optional column it
    leaves out given its documented default; return the inputs found. (On Spark the rows are not
    checked against the contract's value rules: the store build from them does, and computes the
    metrics whose rows that changed itself.)"""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions

    found = set()
    for name, spec in contract.INPUTS.items():
        frame = None
        for path in (f"{data}/{name}.parquet", f"{data}/{name}"):
            try:
                frame = spark.read.option("recursiveFileLookup", "true").parquet(path)
                break
            except AnalysisException:
                continue
        if frame is None:
            say(f"{name}: not found at {data}")
            frame = spark.sql(to_spark(empty_relation(spec)))
        else:
            found.add(name)
            for column in spec.columns:
                if column.name in frame.columns or not column.optional:
                    continue
                value = "null" if column.default is None else quote_literal(column.default)
                cast = sqlglot.parse_one(f"cast({value} as {column.type})", read="duckdb").sql(
                    dialect="spark"
                )
                frame = frame.withColumn(column.name, functions.expr(cast))
        frame.createOrReplaceTempView(f"raw_{name}")
    return frozenset(found)


def _cube(spark: SparkSession, metric: Metric, folder: str) -> SparkCube:
    """Build one metric's cube table on Spark (composition.cube_sql, as the DuckDB store does) and
    write it as parquet, every grain: which are worth keeping the store decides as it loads them."""
    rows = spark.sql(to_spark(metric.sql, _columns_of(spark)))
    columns = {
        f.name: _TYPES.get(f.dataType.simpleString(), f.dataType.simpleString().upper())
        for f in rows.schema.fields
    }
    dimensions = tuple(d for d in DIMENSIONS if d in columns)
    grains = grains_of(metric.name, dimensions)
    table = cube_table_name(metric)
    sql = composition.cube_sql(
        metric.sql, columns, metric.aggregate, grains, composition.sums(metric.aggregate)
    )
    spark.sql(to_spark(sql, _columns_of(spark))).write.mode("overwrite").parquet(f"{folder}/{table}")
    return SparkCube(metric.name, table, tuple(grains))


def _columns_of(spark: SparkSession) -> Callable[[str], list[str]]:
    """Return what names the columns of a registered view ([] for anything else)."""
    from pyspark.errors import AnalysisException

    def columns(view: str) -> list[str]:
        try:
            return list(spark.table(view).columns)
        except AnalysisException:
            return []

    return columns


def _write_text(spark: SparkSession, path: str, text: str) -> None:
    """Write a small text file at any path Spark writes to (local, s3a://, abfss://)."""
    jvm = spark.sparkContext._jvm  # Hadoop's file systems are reached through the JVM
    assert jvm is not None
    target = jvm.org.apache.hadoop.fs.Path(path)
    system = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = system.create(target, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
