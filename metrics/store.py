"""The fast path: a DuckDB database file built once from the parquet inputs, holding the staging and
mart models as tables and, per metric, cubes of the sums its statistic is computed from."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path

import duckdb
import polars as pl

from metrics import comments, composition, storefile, topics
from metrics.catalog import THEME_PREFIX, Metric
from metrics.composition import GRAIN_COLUMN, QUANTILES
from metrics.dimensions import DIMENSIONS, EQUITY_DIMENSIONS, TIME_DIMENSIONS
from metrics.errors import CxError
from metrics.measures import COMPARED_METRICS
from metrics.sqlfiles import (
    METRICS_FOLDER,
    THEMES_FOLDER,
    definitions_digest,
    quote_identifier,
    quote_literal,
)
from metrics.storefile import Cube, Fingerprint, MetricColumns
from metrics.warehouse import BUILDERS, PREVIOUS_ALIAS, STORE_ALIAS, TOGETHER_ROWS, Warehouse

ALIAS = STORE_ALIAS
# Python files whose code decides what a store holds besides the SQL: the input checks, the cube
# queries and the store's layout (this file, storefile.py). Their text is part of a store's
# fingerprint, so an older file is rebuilt rather than misread.
_CODE_FILES = (
    "contract.py",
    "validation.py",
    "warehouse.py",
    "types.py",
    "store.py",
    "query.py",
    "composition.py",
    "storefile.py",
    "topics.py",
    "comments.py",
)
# A cube is kept when it has at most this share of its metric's rows, or at most MIN_CUBE_ROWS rows:
# a long cube nearly as long as the rows it sums is no faster to read than the rows, but a short one
# always is, however short its rows (a metric may join or group many rows into few).
MAX_CUBE_SHARE = 0.25
MIN_CUBE_ROWS = 20_000
# Models the store keeps as a view of another model's table instead of a table of their own: the
# other holds each of their rows once with every column of theirs, and more (responses_with_contacts
# is stg_responses with the wait and outcome of each response's contact), so a copy would write the
# same rows twice (39 s of a 10M-response build). A view over the same sorted table reads as fast.
VIEWED_MODELS = {"stg_responses": "responses_with_contacts"}
# Metrics whose rows are one table's, each with its own condition and columns (composition.Plain),
# and whose cubes have the same grains are summed in one statement (composition.shared_cube_sql) when
# they are mostly the same rows: the rows are grouped once for all of them, and grouping costs per
# row. A statement's rows are at most SHARED_OVERLAP times its largest metric's (the seven "went
# well" checkboxes are asked of the same respondents; metrics of different rows only add to one
# another's: four of them together took as long as alone at 10M responses). Each grouped row carries
# every metric's sums, so a statement takes at most SHARED_METRICS metrics (at 200k responses, 7
# drivers' cubes took 0.14 s a metric together against 0.36 s alone, 14 took 0.15 s and 25 more than
# alone) and at most SHARED_ROWS rows times its metrics, so that it stays in memory at 10M rows.
SHARED_OVERLAP = 1.25
SHARED_METRICS = 7
SHARED_ROWS = 40_000_000
# A quantile's cube grain estimated at more than this many times the longest kept is not computed
# (`_worth_computing`): it would be dropped. The estimates were at most 7% over the true count.
ESTIMATE_MARGIN = 1.15
# Up to how many rows times grains a metric's cube is computed from a copy of each row per grain
# (composition's plan "copies") rather than through grouping sets, whose fixed cost per grouping is
# most of a small cube's time: at 20k rows, trust's cube took 0.6 s against 1.2 s, at 1 row 0.06 s
# against 0.7 s; at 200k rows (11M copies) the two took the same (5.4 and 5.5 s).
COPIED_ROWS = 4_000_000
_PAGE = ("service", "channel", "segment")
_SURVEY = ("journey_stage", "survey_version", "trust_scale", "wait_band")
_QUARTER = ("fiscal_year", "fiscal_quarter")
# The groupings cubes are built at, each cut to the dimensions a metric's rows carry, finest first:
# a grain covered by a cube already built is summed from that cube instead of from the rows. The
# first serves every page filter and breakdown except equity; each equity dimension gets one with
# the page filters, and all of them together with the quarter serve one equity dimension within
# another. That one is long (every combination of seven traits), so each pair of equity dimensions
# with the quarter gets one too, summed from it: the overview's gaps compare every group within every
# other (under a page filter too: COMPARED_GRAINS, for the measures it compares). The quarterly ones
# are short enough for quantiles, whose cubes hold every value.
GRAINS: tuple[tuple[str, ...], ...] = (
    (*TIME_DIMENSIONS, *_PAGE, *_SURVEY),
    (*_QUARTER, *EQUITY_DIMENSIONS),
    *((*_QUARTER, *pair) for pair in combinations(EQUITY_DIMENSIONS, 2)),
    *((*TIME_DIMENSIONS, *_PAGE, equity) for equity in EQUITY_DIMENSIONS),
    (*_QUARTER, *_PAGE),
    *((*_QUARTER, page) for page in _PAGE),
    _QUARTER,
)
# The measures the pages compare one group within another (the overview's gap search, the Equity
# page) under a page filter get a cube of every pair of equity dimensions with the page filters and
# the quarter; the others read the rows for it, as those cubes cost their build a pass each.
COMPARED_GRAINS: tuple[tuple[str, ...], ...] = tuple(
    (*_QUARTER, *_PAGE, *pair) for pair in combinations(EQUITY_DIMENSIONS, 2)
)
# Those cubes are built only for a metric of at least this many rows (read with others of its table,
# the table's rows: at most what such a question reads). Below it, its rows answer such a question
# nearly as fast, and the cubes would be longer than the rows. Measured side by side on one
# machine: one such question took 15-19 ms from the rows against 11-14 ms from the cubes at 200,000
# responses, 17-28 against 12-22 ms at 1M; the overview's gap search under a page filter took as long
# either way at both sizes. At 200,000 responses they were 21 of trust's 56 groupings and 300,000 of
# its 412,000 cube rows, and leaving them out took the store's build from 39 to 33 s.
COMPARED_ROWS = 1_000_000
# A quantile's cube keeps each row's running count in its cell (composition.RUNNING_COLUMNS) for the
# grains of at most this many rows: a page's read of whole cells of one (the tiles' median wait by
# quarter, under one service, say) then skips the window that counts them, which was most of its
# time: 7.3 and 8.4 ms against 24.5 and 20.1 ms for the overview's two at 10M responses. The long
# grains are left out, as counting is a sort of their every row: at 10M the grains up to this size
# are 6.1M of the median wait's 18.1M cube rows.
RUNNING_ROWS = 500_000
# The grouping an analysis's sums are kept at (sql/analyses/, those with a `-- keys:` line): the page
# filters and the quarter, which is every filter a page gives an analysis.
ANALYSIS_GRAIN = (*_QUARTER, *_PAGE)
# The tables besides the cubes whose columns the store records (Store.tables): those pages read, the
# comments and their topics. A page then knows from the store's record whether it holds them,
# rather than asking DuckDB's catalog on each visit (1.4 ms a question at 10M responses, 12.8 ms the
# first time).
PAGE_TABLES = (comments.TABLE, topics.TABLE, topics.EXAMPLES_TABLE)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Store:
    """A built store file: where it is and its cubes per metric (shortest first), and per analysis as
    `analyses/<name>`. The checked inputs, what their checks found and the models are in it too
    (Warehouse.load_from_store reads them)."""

    path: Path
    cubes: dict[str, tuple[Cube, ...]]
    # The columns of each metric's rows as the build bound them (storefile.MetricColumns).
    columns: Mapping[str, MetricColumns] = field(default_factory=dict)
    # The columns of each cube table in the file and of the tables pages read (PAGE_TABLES), by name.
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def cube(self, metric: str, dimensions: set[str]) -> Cube | None:
        """Return the shortest cube of `metric` that carries every one of `dimensions`, if any."""
        return next((c for c in self.cubes.get(metric, ()) if dimensions <= c.dimensions), None)


def fingerprint(warehouse: Warehouse, metrics: list[Metric]) -> Fingerprint:
    """Return the fingerprint of a store of the warehouse's inputs and these metrics."""
    # The time zone dates zoned timestamps to quarters: another zone is another store.
    code = hashlib.sha256(
        f"{duckdb.__version__} {GRAINS} {COMPARED_GRAINS} {COMPARED_METRICS} {ANALYSIS_GRAIN} {warehouse.time_zone}".encode()
    )
    # Each metric file is a digest of its own, so a build after one changed takes every other
    # metric's cubes from the previous store (previous_store).
    code.update(definitions_digest(skip=(METRICS_FOLDER, THEMES_FOLDER)).encode())
    for name in _CODE_FILES:
        code.update(name.encode() + b"\n" + (Path(__file__).parent / name).read_bytes())
    inputs = {}
    for name, state in sorted(warehouse.inputs.items()):
        digest = hashlib.sha256()
        for path in state.files:
            stat = path.stat()
            digest.update(f"{path.resolve()} {stat.st_size} {stat.st_mtime_ns}\n".encode())
        inputs[name] = digest.hexdigest()
    return Fingerprint(code.hexdigest(), inputs, {m.name: metric_digest(m) for m in metrics})


def metric_digest(metric: Metric) -> str:
    """Return the digest of what a metric's cubes are computed from: its aggregate and its SQL (not
    its header: a new label or target changes no number)."""
    return hashlib.sha256(f"{metric.aggregate}\n{metric.sql}".encode()).hexdigest()


def store_path(warehouse: Warehouse, metrics: list[Metric], store_dir: Path) -> Path:
    """Return the file a store of these inputs, metrics and SQL files lives in."""
    return fingerprint(warehouse, metrics).path(store_dir)


@dataclass(frozen=True)
class Previous:
    """An earlier store built by the same code, the inputs whose files have not changed since and the
    metrics whose files have not: what it holds of those alone is copied into the new store instead
    of computed again."""

    store: Store
    unchanged: frozenset[str]
    metrics: frozenset[str] = frozenset()
    unsorted: frozenset[str] = frozenset()  # its models kept unsorted: sorted when copied


def previous_store(target: Path, built_from: Fingerprint) -> Previous | None:
    """Return the most recent other store beside `target` built by the same code from at least one
    of the same input files, if any."""
    for path, earlier in _earlier(target, built_from):
        unchanged = frozenset(n for n, d in built_from.inputs.items() if earlier.inputs.get(n) == d)
        found = open_store(path)
        if unchanged and found is not None:
            return Previous(
                found, unchanged, _same_metrics(built_from, earlier), storefile.read_unsorted(path)
            )
    return None


def latest_store(target: Path, built_from: Fingerprint) -> tuple[Store, Fingerprint] | None:
    """Return the most recent other store beside `target` built by the same code, whatever its inputs
    and metric files, with what it was built from: what a server serves while the store of `target`
    is built. Only its cubes of metrics whose files have not changed are kept: the others answer
    from its rows, by their current files."""
    for path, earlier in _earlier(target, built_from):
        found = open_store(path)
        if found is not None:
            same = _same_metrics(built_from, earlier)
            cubes = {k: c for k, c in found.cubes.items() if k in same or k.startswith(analysis_key(""))}
            columns = {k: c for k, c in found.columns.items() if k in same}
            dropped = {c.table for k, kept in found.cubes.items() if k not in cubes for c in kept}
            described = {t: c for t, c in found.tables.items() if t not in dropped}
            return Store(found.path, cubes, columns, described), earlier
    return None


def _earlier(target: Path, built_from: Fingerprint) -> Iterator[tuple[Path, Fingerprint]]:
    """Yield the other stores beside `target` built by the same code, most recent first."""
    candidates = sorted(
        (p for p in target.parent.glob("store-*.duckdb") if p != target),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in candidates:
        earlier = storefile.read_built(path)
        if earlier is not None and earlier.code == built_from.code:
            yield path, earlier


def _same_metrics(now: Fingerprint, earlier: Fingerprint) -> frozenset[str]:
    return frozenset(n for n, d in now.metrics.items() if earlier.metrics.get(n) == d)


def open_store(path: Path) -> Store | None:
    """Read a built store's description, or None when there is none at `path`."""
    found = storefile.read_description(path)
    return None if found is None else Store(path, *found)


@dataclass(frozen=True)
class AnalysisCube:
    """What the store keeps of one analysis: its sums grouped by `dimensions`, made by `sql`."""

    name: str
    dimensions: tuple[str, ...]
    sql: str

    @property
    def key(self) -> str:
        return analysis_key(self.name)


def analysis_key(name: str) -> str:
    """Return the name an analysis's sums are listed under among the store's cubes."""
    return f"analyses/{name}"


Columns = Mapping[str, str]  # the columns of a metric's rows, each with its type


@contextmanager
def new_store(warehouse: Warehouse, path: Path, progress: Progress | None = None) -> Iterator[None]:
    """Attach the file a store is built in as ALIAS, under a temporary name, for the block to fill:
    the inputs are copied into it as they are read and checked (`Warehouse.load` with `into`), then
    `build_store` adds the rest. When the block ends, it is renamed into place, so a reader never sees
    half a store and two builders of the same inputs do not clash; it is removed if the block fails.
    Older stores beside it go."""
    say = progress or (lambda _: None)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    started, begun = time.perf_counter(), time.time()
    con = warehouse.cursor()
    try:
        con.execute(f"attach {quote_literal(str(temporary))} as {ALIAS}")
        try:
            yield
        except BaseException:
            with suppress(duckdb.Error):
                con.execute(f"detach {ALIAS}")
            raise
        con.execute(f"detach {ALIAS}")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
        temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)
    # Older stores go; one another process wrote while this one was built is no older (a whole store
    # `cx build` finished while a server built its first store of the overview's measures).
    for old in path.parent.glob("store-*.duckdb"):
        if old != path and old.stat().st_mtime < begun:
            old.unlink(missing_ok=True)
    say(f"store built in {time.perf_counter() - started:.1f}s: {path}")


def build_store(
    warehouse: Warehouse,
    metrics: Sequence[tuple[Metric, tuple[str, ...], Columns]],
    built_from: Fingerprint,
    progress: Progress | None = None,
    analyses: tuple[AnalysisCube, ...] = (),
    previous: Previous | None = None,
    prebuilt: Path | None = None,
    with_comments: bool = True,
    sorted_models: bool = True,
) -> None:
    """Fill the store file `new_store` attached from the warehouse's parquet views: copy each checked
    input not copied in already and each model into a table, then build each metric's cubes
    (`metrics`: each with the dimensions it carries and the columns of its rows) and the `analyses`'
    sums. What reads only inputs and metric files unchanged since a `previous` store (attached by the
    warehouse's load) is copied from it instead of computed again; a metric's cube table built on
    Spark into `prebuilt` (metrics/spark.py) is loaded from its parquet when it is the current metric
    file's. The comments and their topics are kept too, unless `with_comments` is false. Unless
    `sorted_models` is false, each model is kept in the order its rows are read by (`_sorted`)."""
    say = progress or (lambda _: None)
    if with_comments and not _kept(previous, frozenset({"responses"})):
        topics.prepare()  # their library is imported while the cubes are built
    con = warehouse.cursor()
    unsorted = _copy_tables(con, warehouse, previous, say, sorted_models)
    # Metric SQL reads the models by name: while cubes are built they are the copied tables.
    warehouse.read_from(ALIAS)
    try:
        reuse = _reuse(con, previous, warehouse)
        coded = _coded_dimensions(con, warehouse)
        cubes = _build_cubes(con, metrics, say, reuse, _from_spark(prebuilt, warehouse, say), coded)
        cubes += _build_analyses(con, analyses, say, reuse)
        if with_comments:
            _build_comments(con, warehouse, [m for m, _, _ in metrics], previous, say)
        described = [MetricColumns(m.name, metric_digest(m), dict(columns)) for m, _, columns in metrics]
        storefile.write(
            con, ALIAS, cubes, _stored_inputs(warehouse), built_from, unsorted, described, PAGE_TABLES
        )
    finally:
        warehouse.read_from(None)


def _copy_tables(
    con: duckdb.DuckDBPyConnection,
    warehouse: Warehouse,
    previous: Previous | None,
    say: Progress,
    sort: bool = True,
) -> frozenset[str]:
    """Copy every model into the store as a table, and the checked copy of each input too: a later
    start serves it from there, on disk, instead of reading and checking the parquet again
    (Warehouse.load_from_store). A model that reads only unchanged inputs comes from `previous`.
    Small inputs' models are copied BUILDERS at once: one copy of a few hundred thousand rows does
    not keep two cores busy. Large ones' are copied one at a time: each keeps every core busy, and two
    at once only compete for memory (about 12 s slower at 10M responses, in one run). A model of
    VIEWED_MODELS is kept as a view, where the other's copy bears it out (`_viewed`). Unless `sort`,
    models are copied as they come, unsorted (`_sorted`): return those, which a build that copies
    them from this store sorts then."""
    unsorted: set[str] = set()

    def copy(name: str) -> None:
        cursor, step = con.cursor(), time.perf_counter()
        model = name in warehouse.models
        if model and _kept(previous, warehouse.reads[name]):
            assert previous is not None  # _kept says so
            _copy(cursor, name, _sorted(cursor, name, name in previous.unsorted))
            say(f"copied {name} from the previous store ({time.perf_counter() - step:.1f}s)")
            return
        order = _sorted(cursor, name, model)
        if order and not sort:
            order = ""
            unsorted.add(name)
        cursor.execute(
            f"create table {ALIAS}.{quote_identifier(name)} as select * from {quote_identifier(name)}{order}"
        )
        say(f"copied {name} ({time.perf_counter() - step:.1f}s)")

    # The marts, which join staging models, take longest: they start first. An input copied in as it
    # was read and checked is not copied again.
    raw = [n for n in (f"raw_{name}" for name in warehouse.inputs) if not _holds(con, ALIAS, n)]
    largest = max((warehouse.row_count(name) for name in warehouse.inputs), default=0)
    viewed = [
        n for n, holder in VIEWED_MODELS.items() if n in warehouse.models and holder in warehouse.models
    ]
    copied = [n for n in reversed(warehouse.models) if n not in viewed]
    with ThreadPoolExecutor(BUILDERS if largest < TOGETHER_ROWS else 1) as workers:
        list(workers.map(copy, [*copied, *raw]))
    for name in viewed:
        step = time.perf_counter()
        if _viewed(con, name, VIEWED_MODELS[name]):
            say(f"kept {name} as a view of {VIEWED_MODELS[name]} ({time.perf_counter() - step:.1f}s)")
        else:
            copy(name)
    return frozenset(unsorted)


def _viewed(con: duckdb.DuckDBPyConnection, name: str, holder: str) -> bool:
    """Keep the model `name` in the store as a view of the copy of `holder`, and return true, when that
    copy has each of its columns with the same type and as many rows: `holder` holds each of its rows
    at least once (VIEWED_MODELS), so then exactly once."""
    own = [(str(row[0]), str(row[1])) for row in con.execute(f"describe {quote_identifier(name)}").fetchall()]
    table = f"{ALIAS}.{quote_identifier(holder)}"
    theirs = {str(row[0]): str(row[1]) for row in con.execute(f"describe {table}").fetchall()}
    if any(theirs.get(column) != kind for column, kind in own):
        return False
    counted = con.execute(
        f"select (select count(*) from {quote_identifier(name)}) = (select count(*) from {table})"
    ).fetchone()
    if not (counted and counted[0]):
        return False
    # The table is named unqualified: DuckDB binds a view's names in the view's own database, so it
    # is the store's own table under whichever name the store is attached later.
    columns = ", ".join(quote_identifier(column) for column, _ in own)
    con.execute(
        f"create view {ALIAS}.{quote_identifier(name)} as select {columns} from {quote_identifier(holder)}"
    )
    return True


def _coded_dimensions(con: duckdb.DuckDBPyConnection, warehouse: Warehouse) -> dict[str, str]:
    """Create in the store an ENUM type of each dimension the models carry as text, of every value
    they hold, and return each one's name: the cubes keep those dimensions as codes of it
    (composition._keys), which their statements group and write two to three times as fast as text
    (trust's cube at 200,000 responses: computed in 0.72-0.81 s against 0.94-1.14 s, written in
    0.22 s against 0.42-0.45 s). A metric whose rows hold a value the models do not is built with
    text (`_cube_table`); the pages read every cube's dimensions as text (Engine._source). A model
    kept as a view (VIEWED_MODELS) is not read: its values are those of the table it views."""
    models: dict[str, list[str]] = {}
    for name in (n for n in warehouse.models if _holds(con, ALIAS, n)):
        for column, kind, *_ in con.execute(f"describe {ALIAS}.{quote_identifier(name)}").fetchall():
            if column in DIMENSIONS and str(kind).upper() == "VARCHAR":
                models.setdefault(str(column), []).append(name)
    coded = {}
    for dimension, names in models.items():
        column = quote_identifier(dimension)
        values = " union all ".join(f"select {column} as v from {ALIAS}.{quote_identifier(n)}" for n in names)
        coded[dimension] = f"{ALIAS}.{quote_identifier('cx_dimension_' + dimension)}"
        con.execute(
            f"create type {coded[dimension]} as enum "
            f"(select distinct v from ({values}) where v is not null order by v)"
        )
    return coded


def _kept(previous: Previous | None, reads: frozenset[str]) -> bool:
    """Whether what reads the inputs `reads` may be copied from the previous store."""
    return previous is not None and reads <= previous.unchanged


def _holds(con: duckdb.DuckDBPyConnection, database: str, table: str) -> bool:
    """Whether the attached `database` holds `table`."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = $db and table_name = $table",
        {"db": database, "table": table},
    ).fetchone()
    return bool(found and found[0])


def _copy(con: duckdb.DuckDBPyConnection, table: str, order: str = "") -> None:
    """Copy a table of the previous store into the new one, rows in the same order or by `order`."""
    name = quote_identifier(table)
    con.execute(f"create table {ALIAS}.{name} as select * from {PREVIOUS_ALIAS}.{name}{order}")


# Copies the previous store's cubes of a metric or analysis (by key, with the SQL that reads its
# inputs) when those inputs are unchanged, and returns them; None when they must be built.
Reuse = Callable[[str, str], "tuple[Cube, ...] | None"]


def _reuse(con: duckdb.DuckDBPyConnection, previous: Previous | None, warehouse: Warehouse) -> Reuse:
    copied: set[str] = set()  # metrics of the same totals share a table: it is copied once

    def reuse(key: str, sql: str) -> tuple[Cube, ...] | None:
        if previous is None or key not in previous.store.cubes:
            return None
        # A metric file that changed is computed again (analyses are part of the code: unchanged).
        if not key.startswith(analysis_key("")) and key not in previous.metrics:
            return None
        if not _kept(previous, warehouse.inputs_read(sql)):
            return None
        for table in dict.fromkeys(cube.table for cube in previous.store.cubes[key]):
            if table not in copied:
                _copy(con, table)
                copied.add(table)
        return previous.store.cubes[key]

    return reuse


def _sorted(con: duckdb.DuckDBPyConnection, name: str, model: bool) -> str:
    """Return the order a model's copy is kept in: by the page filters it carries, then the quarter.
    A question no cube answers reads the model's rows, and a filter on a service, segment or channel
    then skips the row groups that hold none of it (a third to a quarter of the reading at 10M rows)."""
    if not model:
        return ""
    columns = {str(row[0]) for row in con.execute(f"describe {quote_identifier(name)}").fetchall()}
    keys = [d for d in ("service", "segment", "channel", "fiscal_quarter") if d in columns]
    return f" order by {', '.join(map(quote_identifier, keys))}" if keys else ""


# Where a metric's cube table built elsewhere (on Spark) is read from, given its grains; None: build it.
Prebuilt = Callable[[Metric, list[tuple[str, ...]]], "str | None"]
Job = tuple[Metric, list[tuple[str, ...]], Columns]  # a metric, its grains, its rows' columns
Totals = tuple[str, str, tuple[str, ...]]  # what a metric's cubes sum: template, SQL, dimensions


def _build_cubes(
    con: duckdb.DuckDBPyConnection,
    metrics: Sequence[tuple[Metric, tuple[str, ...], Columns]],
    say: Progress,
    reuse: Reuse,
    prebuilt: Prebuilt = lambda metric, grains: None,
    coded: Mapping[str, str] | None = None,
) -> list[Cube]:
    """Build each metric's cube table: its totals at every grain of GRAINS its rows carry, in one
    statement that reads the rows once (composition.cube_sql), less the grains too long to be worth
    keeping. Metrics whose totals are the same (a median and a 90th percentile of the same rows)
    share one table; metrics whose rows are one table's share the statement (`_batches`). Their
    dimensions `coded` names a type for are kept as codes (`_coded_dimensions`)."""
    found: dict[str, tuple[Cube, ...]] = {}
    building: dict[Totals, Job] = {}
    shared: dict[str, Totals] = {}
    for metric, dimensions, columns in metrics:
        copied = reuse(metric.name, metric.sql)
        if copied is not None:
            found[metric.name] = copied
            say(f"{metric.name}: {len(copied)} cubes copied from the previous store")
            continue
        same = (composition.template(metric.aggregate), metric.sql, dimensions)
        if same in building:
            shared[metric.name] = same
            continue
        building[same] = (metric, grains_of(metric.name, dimensions), columns)
    built = _side_by_side(con, building, say, prebuilt, coded)
    for same, (metric, _, _) in building.items():
        found[metric.name] = built[same]
    for name, same in shared.items():
        found[name] = tuple(replace(c, metric=name) for c in built[same])
        say(f"{name}: the cubes of {building[same][0].name}, whose totals are the same")
    return [cube for metric, _, _ in metrics for cube in found[metric.name]]


def grains_of(metric: str, dimensions: tuple[str, ...], compared: bool = True) -> list[tuple[str, ...]]:
    """Return the grains of a metric's cubes, finest first: those of GRAINS (and, for a measure the
    pages compare group within group, COMPARED_GRAINS unless not `compared`) cut to the dimensions its
    rows carry."""
    every = [
        GRAINS[0],
        GRAINS[1],
        *(COMPARED_GRAINS if compared and metric in COMPARED_METRICS else ()),
        *GRAINS[2:],
    ]
    return [g for g in dict.fromkeys(tuple(d for d in grain if d in dimensions) for grain in every) if g]


def _from_spark(prebuilt: Path | None, warehouse: Warehouse, say: Progress) -> Prebuilt:
    """Return what finds the parquet of a metric's cube table built on Spark into `prebuilt`: only
    one of the current metric file (its table is named by the file's digest) and the same grains,
    and only where the rows Spark summed are the rows served. Spark does not reject rows that break a
    value rule, convert zoned timestamps to agency time or redact comments (`warehouse.load` does, as
    it copies the inputs Spark wrote): a metric reading an input that any of these changed is
    computed here instead, and said so."""
    if prebuilt is None:
        return lambda metric, grains: None
    from metrics.spark import CUBES, read_manifest  # read only when Spark built the cubes

    found = read_manifest(prebuilt)

    def parquet(metric: Metric, grains: list[tuple[str, ...]]) -> str | None:
        cube = found.get(metric.name)
        if cube is None or cube.table != cube_table_name(metric) or list(cube.grains) != grains:
            return None
        changed = _changed_since_spark(warehouse, metric)
        if changed:
            say(f"{metric.name}: computed here, not loaded from Spark's cubes: {changed}")
            return None
        return quote_literal(str(prebuilt / CUBES / cube.table / "*.parquet"))

    return parquet


def _changed_since_spark(warehouse: Warehouse, metric: Metric) -> str:
    """Say how the rows a metric reads differ from those Spark read ('' when they do not)."""
    for name in sorted(warehouse.inputs_read(metric.sql)):
        state = warehouse.inputs[name]
        if state.rejected:
            return f"{state.rejected:,} rows of {name} break a value rule and are left out"
        if any(kind.upper().startswith("TIMESTAMP WITH TIME ZONE") for kind in state.columns.values()):
            return f"{name} has timestamps with a zone, read in agency time"
        texts = [c.name for c in state.spec.columns if c.free_text]
        if state.redacted and any(re.search(rf"\b{c}\b", metric.sql) for c in texts):
            return f"it reads the comments of {name}, whose personal details are redacted"
    return ""


def cube_table_name(metric: Metric) -> str:
    """Return the name of a metric's cube table: by what it holds, so a changed metric's new table
    never meets the copy of its old one."""
    return f"cube_{metric.name}_{metric_digest(metric)[:12]}"


Shared = dict[Totals, tuple[composition.Plain, Columns]]  # a metric's Plain rows, its table's columns


def _shareable(con: duckdb.DuckDBPyConnection, building: dict[Totals, Job]) -> Shared:
    """Return the metrics of `building` that may be summed with others of the same table: those whose
    aggregate allows it (composition.shareable) and whose rows are a Plain shape of a table that
    carries `record_key` and none of the columns they add."""
    found: Shared = {}
    tables: dict[str, Columns] = {}
    for same, (metric, grains, _) in building.items():
        shape = composition.plain(metric.sql) if grains and composition.shareable(metric.aggregate) else None
        if shape is None:
            continue
        if shape.table not in tables:
            described = con.execute(f"describe select * from {shape.table}").fetchall()
            tables[shape.table] = {str(row[0]): str(row[1]) for row in described}
        columns = tables[shape.table]
        lowered = {c.lower() for c in columns}
        if "record_key" in lowered and not {name.lower() for name, _ in shape.added} & lowered:
            found[same] = (shape, columns)
    return found


def _batches(
    con: duckdb.DuckDBPyConnection, building: dict[Totals, Job], shared: Shared, alone: set[Totals]
) -> list[list[Totals]]:
    """Return the cube tables of `building` in the groups built by one statement each: the metrics of
    `shared` (less those `alone`) of one aggregate, table and grains together, as SHARED_METRICS and
    SHARED_ROWS allow; every other one on its own. A quantile's cubes keep every value and take longest
    (minutes at 10M rows): they start first, so the others are built beside them rather than after.
    Then those of most grains and metrics, which take longer, so no long one is left to build alone
    at the end."""
    together: dict[tuple[str, str, tuple[tuple[str, ...], ...]], list[Totals]] = {}
    batches: list[list[Totals]] = []
    for same, (_, grains, _) in building.items():
        if same in shared and same not in alone:
            together.setdefault((same[0], shared[same][0].table, tuple(grains)), []).append(same)
        else:
            batches.append([same])
    for group in together.values():
        found = con.execute(composition.overlap_sql([shared[same][0] for same in group])).fetchall()
        counted = {sum(1 << i for i, held in enumerate(flags) if held): int(n) for flags, n in found}
        batches += [[group[i] for i in batch] for batch in _overlapping(counted, len(group))]
    return sorted(
        batches, key=lambda batch: (batch[0][0] != "quantile", -len(building[batch[0]][1]) * len(batch))
    )


def _overlapping(counted: Mapping[int, int], metrics: int) -> list[list[int]]:
    """Return the metrics 0 .. `metrics` - 1 of one table in the groups read together, given how many
    of its rows each combination of them holds (`counted`: a bit per metric): largest first, each
    joins the first group whose rows it grows to at most SHARED_OVERLAP times its first (largest)
    metric's, within SHARED_METRICS and SHARED_ROWS; otherwise it starts one."""

    def rows(members: int) -> int:
        return sum(n for held, n in counted.items() if held & members)

    sizes = [rows(1 << i) for i in range(metrics)]
    groups: list[list[int]] = []
    for i in sorted(range(metrics), key=lambda i: -sizes[i]):
        for group in groups:
            union = rows(sum(1 << j for j in [*group, i]))
            largest = sizes[group[0]]
            fits = len(group) < SHARED_METRICS and union * (len(group) + 1) <= SHARED_ROWS
            if fits and largest > 0 and union <= SHARED_OVERLAP * largest:
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def _side_by_side(
    con: duckdb.DuckDBPyConnection,
    building: dict[Totals, Job],
    say: Progress,
    prebuilt: Prebuilt,
    coded: Mapping[str, str] | None = None,
) -> dict[Totals, tuple[Cube, ...]]:
    """Build the cube tables of `building`, BUILDERS statements at once, each on its own cursor: one
    small statement does not keep two cores busy, two side by side do. Metrics of one table are
    summed together (`_batches`), unless Spark built their tables. A metric that runs out of memory
    beside the others is built again once they are done (`_alone`)."""
    done = 0
    lock = threading.Lock()
    parquets = {same: prebuilt(metric, grains) for same, (metric, grains, _) in building.items()}
    shared = _shareable(con, building)

    def beside(same: Totals) -> tuple[Cube, ...] | None:
        metric, grains, columns = building[same]
        try:
            return (
                _cube_table(con.cursor(), metric, grains, columns, parquets[same], coded=coded)
                if grains
                else ()
            )
        except duckdb.OutOfMemoryException as error:
            # What each statement holds is much the same at any size of data (a few tables per
            # grouping and thread), so a small memory limit may not hold two side by side.
            say(f"{metric.name}: out of memory beside another statement ({str(error).splitlines()[0]})")
            return None

    def build(batch: list[Totals]) -> Sequence[tuple[Cube, ...] | None]:
        nonlocal done
        step = time.perf_counter()
        jobs = [building[same] for same in batch]
        built: Sequence[tuple[Cube, ...] | None] | None = None
        if len(batch) > 1:
            try:
                built = _shared_cube_tables(
                    con.cursor(), jobs, [shared[same][0] for same in batch], shared[batch[0]][1], coded
                )
            except duckdb.Error as error:
                # Built alone, a metric whose rows fail is named by its own statement's error.
                names = ", ".join(metric.name for metric, _, _ in jobs)
                say(
                    f"{names}: could not be read together, so each is read alone ({str(error).splitlines()[0]})"
                )
        together = built is not None
        if built is None:
            built = [beside(same) for same in batch]
        with lock:
            done += len(batch)
            listed = ", ".join(
                f"{metric.name}: " + ("built again later" if kept is None else f"{len(kept)} cubes")
                for (metric, _, _), kept in zip(jobs, built, strict=True)
            )
            how = " loaded from Spark's" if parquets[batch[0]] else ", read together" if together else ""
            say(f"[{done}/{len(building)}] {listed}{how} ({time.perf_counter() - step:.1f}s)")
        return built

    batches = _batches(con, building, shared, {same for same, parquet in parquets.items() if parquet})
    with ThreadPoolExecutor(BUILDERS) as workers:
        found = list(workers.map(build, batches))
    return {
        same: _alone(con, building[same], parquets[same], say, coded) if kept is None else kept
        for batch, built in zip(batches, found, strict=True)
        for same, kept in zip(batch, built, strict=True)
    }


def _alone(
    con: duckdb.DuckDBPyConnection,
    job: Job,
    parquet: str | None,
    say: Progress,
    coded: Mapping[str, str] | None = None,
) -> tuple[Cube, ...]:
    """Build the cube table of a metric that ran out of memory beside others, now with nothing else
    running; and if it runs out again, with each of its grains no other covers read from the rows as
    itself, which takes fewer grouping operators and so less memory (composition's plan "roots")."""
    metric, grains, columns = job
    step = time.perf_counter()
    try:
        kept = _cube_table(con.cursor(), metric, grains, columns, parquet, coded=coded)
    except duckdb.OutOfMemoryException as error:
        say(
            f"{metric.name}: out of memory alone too, so read in simpler steps ({str(error).splitlines()[0]})"
        )
        try:
            kept = _cube_table(
                con.cursor(), metric, grains, columns, parquet, short_of_memory=True, coded=coded
            )
        except duckdb.OutOfMemoryException as again:
            limit = con.execute("select current_setting('memory_limit')").fetchone()
            raise CxError(
                f"{metric.path.name}: its cubes do not fit in DuckDB's memory limit "
                f"({limit[0] if limit else '?'}); raise CX_MEMORY_LIMIT ({str(again).splitlines()[0]})"
            ) from again
    say(f"{metric.name}: {len(kept)} cubes, built alone ({time.perf_counter() - step:.1f}s)")
    return kept


def _cube_table(
    con: duckdb.DuckDBPyConnection,
    metric: Metric,
    grains: list[tuple[str, ...]],
    columns: Columns,
    parquet: str | None = None,
    short_of_memory: bool = False,
    coded: Mapping[str, str] | None = None,
) -> tuple[Cube, ...]:
    """Build one metric's cube table `cube_<metric>` and return its cubes, one per grain kept: a grain
    is kept when it has at most MAX_CUBE_SHARE of the metric's rows, or at most MIN_CUBE_ROWS rows.
    A long grain nearly as long as the rows it sums is no faster to read than the rows, but a short
    one always is, however short its rows (a metric may join or group many rows into few). A
    quantile's grains estimated far too long to keep are not computed at all (`_worth_computing`).
    With `parquet`, the table Spark built is read from there instead of computed. Dimensions `coded`
    names a type for are kept as codes, unless the rows hold a value the type does not."""
    counted = con.execute(f"select count(*) from ({metric.sql})").fetchone()
    rows = int(counted[0]) if counted else 0
    if parquet is None:
        grains = _worth_building(metric.name, grains, rows)
    if parquet is None and metric.aggregate in QUANTILES:
        grains = _worth_computing(con, metric, grains, columns, rows)
        if not grains:
            return ()
    sums = composition.sums(metric.aggregate)
    plan = _plan(rows, grains, short_of_memory)

    def computed(coded: Mapping[str, str] | None) -> str:
        if parquet:
            return f"select * from read_parquet({parquet})"
        return composition.cube_sql(metric.sql, columns, metric.aggregate, grains, sums, plan, coded)

    try:
        con.execute(f"create or replace temp table cx_cube as {computed(coded)}")
    except duckdb.ConversionException:
        if not coded or parquet:
            raise
        # A value of a dimension the models do not hold (a metric file may make its own): as text.
        con.execute(f"create or replace temp table cx_cube as {computed(None)}")
    sizes = dict(con.execute(f"select {GRAIN_COLUMN}, count(*) from cx_cube group by all").fetchall())
    kept = _kept_cubes(con, metric, grains, rows, sizes, "*", "true")
    con.execute("drop table cx_cube")
    return kept


def _plan(rows: int, grains: Sequence[tuple[str, ...]], short_of_memory: bool = False) -> composition.Plan:
    """Return how a cube of `rows` rows and `grains` is computed (composition.cube_sql): by copies of
    its rows where they are few, else through hubs, or, `short_of_memory`, by fewer operators."""
    if rows * len(grains) <= COPIED_ROWS:
        return "copies"
    return "roots" if short_of_memory else "hubs"


def _shared_cube_tables(
    con: duckdb.DuckDBPyConnection,
    jobs: list[Job],
    shapes: list[composition.Plain],
    columns: Columns,
    coded: Mapping[str, str] | None = None,
) -> list[tuple[Cube, ...]]:
    """Build the cube tables of several metrics of one table (`shapes`, whose columns are `columns`)
    and the same grains from one statement (composition.shared_cube_sql), each kept as _cube_table
    keeps one metric's: the same table, rows and cubes, its dimensions `coded` names a type for kept
    as codes."""
    metric, grains, _ = jobs[0]
    # The statement reads the rows of the table that any of its metrics holds: at most all of them.
    counted = con.execute(f"select count(*) from {shapes[0].table}").fetchone()
    rows = int(counted[0]) if counted else 0
    grains = _worth_building(metric.name, grains, rows)  # the same for each: they are asked alike
    plan = _plan(rows, grains)
    sql, sums, counts = composition.shared_cube_sql(shapes, columns, metric.aggregate, grains, plan, coded)
    con.execute(f"create or replace temp table cx_cube as {sql}")
    # Each metric's groups of each grain, and its rows: those of the groups of any one grain.
    measured = ", ".join(
        f"count(*) filter (where {c} > 0), sum({c}) filter (where {GRAIN_COLUMN} = 0)" for c in counts
    )
    found = con.execute(f"select {GRAIN_COLUMN}, {measured} from cx_cube group by all").fetchall()
    every = list(map(quote_identifier, dict.fromkeys(d for grain in grains for d in grain)))
    named = composition.sums(metric.aggregate)  # each metric's sums' names in its own cube table
    built = []
    for i, ((metric, _, _), own, count) in enumerate(zip(jobs, sums, counts, strict=True)):
        sizes = {row[0]: int(row[1 + 2 * i]) for row in found}
        rows = sum(int(row[2 + 2 * i] or 0) for row in found)
        listed = ", ".join([GRAIN_COLUMN, *every, *(f"{s} as {n}" for s, n in zip(own, named, strict=True))])
        built.append(_kept_cubes(con, metric, grains, rows, sizes, listed, f"{count} > 0"))
    con.execute("drop table cx_cube")
    return built


def _kept_cubes(
    con: duckdb.DuckDBPyConnection,
    metric: Metric,
    grains: list[tuple[str, ...]],
    rows: int,
    sizes: Mapping[int, int],
    columns: str,
    where: str,
) -> tuple[Cube, ...]:
    """Write a metric's cube table from the temporary `cx_cube` (its `columns` of the rows where `where`
    holds), less the grains too long to keep, and return its cubes."""
    kept = [i for i in range(len(grains)) if sizes.get(i, 0) <= _longest_kept(rows)]
    table = cube_table_name(metric)
    every = list(dict.fromkeys(d for grain in grains for d in grain))
    # Sorted by grain, then by its dimensions, so a grain's rows and a period's are whole blocks.
    order = ", ".join([GRAIN_COLUMN, *map(quote_identifier, every)])
    rows_kept = (
        f"(select {columns} from cx_cube "
        f"where {where} and {GRAIN_COLUMN} in ({', '.join(map(str, kept)) or 'null'}))"
    )
    written = f"select * from {rows_kept}"
    if metric.aggregate in QUANTILES:
        short = [i for i in kept if sizes.get(i, 0) <= RUNNING_ROWS]
        written = composition.running_cube(rows_kept, every, short)
    con.execute(
        f"create or replace table {ALIAS}.{quote_identifier(table)} as "
        f"select * from (\n{written}\n) order by {order}"
    )
    return tuple(Cube(metric.name, table, frozenset(grains[i]), sizes.get(i, 0), i) for i in kept)


def _worth_building(metric: str, grains: list[tuple[str, ...]], rows: int) -> list[tuple[str, ...]]:
    """Return the grains of `grains` (a metric's, from grains_of) worth computing for a metric of `rows`
    rows: all, less COMPARED_GRAINS under COMPARED_ROWS rows."""
    if rows >= COMPARED_ROWS:
        return grains
    return grains_of(metric, tuple(dict.fromkeys(d for grain in grains for d in grain)), compared=False)


def _longest_kept(rows: int) -> float:
    """Return how many rows a cube of a metric of `rows` rows may have and be kept."""
    return max(MAX_CUBE_SHARE * rows, MIN_CUBE_ROWS)


def _worth_computing(
    con: duckdb.DuckDBPyConnection, metric: Metric, grains: list[tuple[str, ...]], columns: Columns, rows: int
) -> list[tuple[str, ...]]:
    """Return the grains of a quantile's cube not estimated far too long to keep. Its cube holds a
    row per group and distinct value, so its finest grains come near its rows' length and are
    dropped; computing them anyway was a third of the time of its cube (12 of 42 s at 10M contacts,
    measured), for the price of one quick read of its rows (1 s there)."""
    found = con.execute(composition.grain_sizes(metric.sql, columns, grains)).fetchone() or ()
    limit = _longest_kept(rows) * ESTIMATE_MARGIN
    return [grain for grain, size in zip(grains, found, strict=True) if size <= limit]


def _build_analyses(
    con: duckdb.DuckDBPyConnection, analyses: tuple[AnalysisCube, ...], say: Progress, reuse: Reuse
) -> list[Cube]:
    cubes: list[Cube] = []
    for analysis in analyses:
        step = time.perf_counter()
        copied = reuse(analysis.key, analysis.sql)
        if copied is not None:
            cubes += copied
            say(f"analysis {analysis.name}: copied from the previous store")
            continue
        table = f"analysis_{analysis.name}"
        con.execute(
            f"create table {ALIAS}.{quote_identifier(table)} as select * from ({analysis.sql}) "
            f"order by {', '.join(map(quote_identifier, analysis.dimensions))}"
        )
        size = con.execute(f"select count(*) from {ALIAS}.{quote_identifier(table)}").fetchone()
        cubes.append(Cube(analysis.key, table, frozenset(analysis.dimensions), int(size[0]) if size else 0))
        say(f"analysis {analysis.name}: {cubes[-1].rows:,} rows ({time.perf_counter() - step:.1f}s)")
    return cubes


def _build_comments(
    con: duckdb.DuckDBPyConnection,
    warehouse: Warehouse,
    metrics: list[Metric],
    previous: Previous | None,
    say: Progress,
) -> None:
    """Keep every comment as the pages list it (metrics/comments.py), newest first, and the topics
    found in them (metrics/topics.py); copy both from the previous store when the responses and every
    comment theme are unchanged."""
    if "responses" not in warehouse.usable_inputs():
        return
    step = time.perf_counter()
    themes = {m.name for m in comments.themes(metrics)}
    # The same themes, none changed: a theme added, edited or removed tags the comments anew.
    same = (
        previous is not None
        and _holds(con, PREVIOUS_ALIAS, comments.TABLE)  # the first store holds no comments
        and themes <= previous.metrics
        and themes == {k for k in previous.store.cubes if k.startswith(THEME_PREFIX)}
    )
    if _kept(previous, frozenset({"responses"})) and same:
        for table in PAGE_TABLES:
            _copy(con, table)
        say(f"comments and their topics: copied from the previous store ({time.perf_counter() - step:.1f}s)")
        return
    con.execute(
        f"create table {ALIAS}.{quote_identifier(comments.TABLE)} as select * from (\n{comments.sql(metrics)}\n) "
        f"order by {comments.NEWEST_FIRST}"
    )
    say(f"comments: classed and tagged ({time.perf_counter() - step:.1f}s)")
    step = time.perf_counter()
    sql, params = topics.comments_sql(comments.stored())
    # A connection of its own: the frames are registered on it while the build's may hold a result.
    own = con.cursor()
    try:
        rows = pl.DataFrame(pl.from_arrow(own.sql(sql, params=params).to_arrow_table()))
        listed, examples = topics.tables(rows)
        for table, frame in ((topics.TABLE, listed), (topics.EXAMPLES_TABLE, examples)):
            own.register("cx_topics_frame", frame)
            own.execute(f"create table {ALIAS}.{quote_identifier(table)} as select * from cx_topics_frame")
            own.unregister("cx_topics_frame")
    finally:
        own.close()
    say(f"comment topics: {listed.height} found ({time.perf_counter() - step:.1f}s)")


def _stored_inputs(warehouse: Warehouse) -> list[storefile.StoredInput]:
    return [
        storefile.StoredInput(name, s.columns, s.usable, s.rejected, tuple(s.problems))
        for name, s in warehouse.inputs.items()
    ]


def clean_scratch(store_dir: Path) -> list[Path]:
    """Remove what builds that died left in `store_dir`: scratch copies of the inputs
    (`.store-*.<pid>.load.duckdb`) and half-written stores (`.store-*.<pid>.tmp`) of processes no
    longer running. Return what was removed."""
    removed = []
    for path in store_dir.glob(".store-*"):
        parts = path.name.split(".")
        pid = next((int(p) for p in reversed(parts) if p.isdigit()), None)
        if pid is None or _running(pid):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running
        return True
    return True


@contextmanager
def build_lock(store_dir: Path, progress: Progress | None = None) -> Iterator[None]:
    """Hold the store folder's build lock: two processes that start a build at once do not both
    build; the second waits here, then finds the store the first built."""
    store_dir.mkdir(parents=True, exist_ok=True)
    with (store_dir / ".build.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress is not None:
                progress("another process is building the store; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_for_store(path: Path, progress: Progress | None = None, poll: float = 5.0) -> None:
    """Wait until the store at `path` is there, for a server that never builds its own (CX_BUILD=never):
    `cx build` on the same inputs, metric files and code writes it, renamed into place whole."""
    if path.is_file():
        return
    if progress is not None:
        progress(f"waiting for `cx build` to build the store {path.name} in {path.parent} (CX_BUILD=never)")
    while not path.is_file():
        time.sleep(poll)
