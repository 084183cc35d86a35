"""The query engine: runs one metric file with the caller's filters, breakdown and period, then
applies small-cell suppression. The one place where metric SQL meets user choices."""

from __future__ import annotations

import atexit
import copy
import difflib
import gc
import itertools
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import polars as pl

from metrics import composition
from metrics.catalog import AGGREGATES, Catalog, Metric, load_catalog, source_name
from metrics.composition import GRAIN_COLUMN, QUANTILES
from metrics.dimensions import DIMENSIONS, sort_key
from metrics.errors import AccessError, CxError, Problem, QueryError
from metrics.settings import DEFAULT_MEMORY_LIMIT
from metrics.sqlfiles import SQL_DIR, quote_identifier, read_sql
from metrics.store import (
    ALIAS,
    ANALYSIS_GRAIN,
    RUNNING_ROWS,
    AnalysisCube,
    Progress,
    Store,
    analysis_key,
    build_lock,
    build_store,
    clean_scratch,
    fingerprint,
    metric_digest,
    new_store,
    open_store,
    previous_store,
)
from metrics.storefile import Cube, Fingerprint
from metrics.suppression import DEFAULT_MIN_N, suppress, suppress_parts, under_minimum
from metrics.warehouse import Warehouse

RESULT_COLUMNS = ("value", "n", "ci_low", "ci_high", "suppressed")
# How many questions of one page are answered at once: one per core, as DuckDB plans and runs a
# statement outside Python's lock and a page's questions are small and independent.
WORKERS = min(4, os.cpu_count() or 1)
_WORKER_NAME = "cx-query"
# Results kept per engine, least recently used dropped first; most are a few rows.
REMEMBERED_RESULTS = 4096
# How many analyses of many results an engine remembers (`Engine.remembered`): a page's few. An
# overview view's gap search is seven of them (the plan of each of its six measures' questions, and
# the search itself), so the searches of about the last 70 views are kept.
REMEMBERED_ANALYSES = 512
# One metric asked this many breakdowns or more under the same filters reads its cube table once
# for all of them (`Engine._breakdowns`).
BREAKDOWNS = 3
# The parameters every question binds alike (the finishing step's): a stack of questions under
# different filters (`Engine._run_stack`) renames each question's others apart.
_SHARED_PARAMETERS = frozenset({"exact", "quantile"})
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Query:
    """What to compute: a metric, its breakdown, filters (dimension -> accepted values) and period."""

    metric: str
    by: tuple[str, ...] = ()
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    start: str | None = None  # first fiscal quarter, e.g. "FY2025 Q1"
    end: str | None = None  # last fiscal quarter, inclusive

    @classmethod
    def of(
        cls,
        metric: str,
        by: Sequence[str] = (),
        where: Mapping[str, Sequence[str] | str] | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> Query:
        """Build a query from plain arguments; a single filter value may be given as a string."""
        filters = tuple(
            (dim, (values,) if isinstance(values, str) else tuple(values))
            for dim, values in (where or {}).items()
        )
        return cls(metric, tuple(by), filters, start, end)


@dataclass(frozen=True)
class Filters:
    """The filters a page applies to every metric it shows: dimension values and a period."""

    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    start: str | None = None
    end: str | None = None

    def query(
        self,
        metric: str,
        by: Sequence[str] = (),
        where: Mapping[str, Sequence[str] | str] | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> Query:
        """Return a query of `metric` under these filters, narrowed by extra `where` and period."""
        extra = Query.of(metric, by, where).where
        return Query(metric, tuple(by), self.where + extra, start or self.start, end or self.end)


@dataclass(frozen=True)
class Asked:
    """Queries being answered on an engine's workers (`Engine.ask`)."""

    engine: Engine
    queries: list[Query]
    jobs: list[Future[None]]

    def answers(self) -> list[pl.DataFrame]:
        """Wait for the queries' answers and return them in order (`Engine.run_many`); the first
        error raised is raised here."""
        for job in self.jobs:
            job.result()
        return [self.engine.run(query) for query in self.queries]


@dataclass
class Engine:
    """Answers queries over one warehouse and catalog with one suppression threshold. Counts are
    published perturbed (the cell-key method, README "Privacy"); `exact` gives the true counts, for
    data owners only: exact answers are no privacy boundary."""

    warehouse: Warehouse
    catalog: Catalog = field(default_factory=load_catalog)
    min_n: int = DEFAULT_MIN_N
    exact: bool = False
    _columns: dict[str, dict[str, str]] = field(default_factory=dict, init=False, repr=False)
    _prepared: dict[tuple[Query, bool, bool], tuple[Metric, list[str], dict[str, object]]] = field(
        default_factory=dict, init=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _workers: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)
    _results: OrderedDict[tuple[Query, bool, int, bool], pl.DataFrame] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    # Each metric's answer over no rows (`_over_no_rows`), by metric, threshold and exactness.
    _nothing: dict[tuple[str, int, bool], pl.DataFrame] = field(default_factory=dict, init=False, repr=False)
    # Analyses of many results (`remembered`), kept as long as the results they read.
    _analyses: OrderedDict[tuple[object, ...], object] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    # Where a remembered breakdown was cut from: its statement's finished table, its part's place in
    # it, and the answer cut (`stacked` reads the table while that answer is still the one remembered).
    _cut_from: OrderedDict[tuple[Query, bool, int, bool], tuple[pl.DataFrame, int, pl.DataFrame]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )

    store: Store | None = field(default=None, init=False, repr=False)
    # The services this engine answers about (None: every one): see `confined`.
    scope: frozenset[str] | None = field(default=None, init=False)
    # A folder of cube tables built on Spark (metrics/spark.py) that a store build loads instead of
    # computing them (`cx build --from-spark`).
    prebuilt: Path | None = field(default=None, init=False, repr=False)
    # Whether a store this engine builds keeps the comments and their topics: the first start's store
    # of the overview's measures leaves them to be read from the rows (metrics/interim.py).
    comments: bool = field(default=True, init=False, repr=False)
    # Whether a store this engine builds keeps each model sorted for filtered reads: the first start's
    # store leaves that to the whole store, which copies its models (metrics/interim.py).
    sorted_models: bool = field(default=True, init=False, repr=False)

    @classmethod
    def open(
        cls,
        data_dir: Path,
        min_n: int = DEFAULT_MIN_N,
        store_dir: Path | None = None,
        build: bool = False,
        progress: Progress | None = None,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        exact: bool = False,
        prebuilt: Path | None = None,
        catalog: Catalog | None = None,
        comments: bool = True,
        sorted_models: bool = True,
    ) -> Engine:
        """Load the inputs of `data_dir` and the metric catalog (or `catalog`); with a `store_dir`,
        answer from the store of these inputs there when it is built, building it first when `build`
        is true (taking the cube tables a Spark build wrote to `prebuilt`; keeping the comments and
        their topics unless `comments` is false, its models sorted unless `sorted_models` is false).
        DuckDB holds at most `memory_limit` in memory, serving or building, and pages the rest to disk."""
        catalog = catalog or load_catalog()
        if store_dir is None:
            return cls(Warehouse(data_dir, memory_limit=memory_limit), catalog, min_n, exact)
        engine = cls(Warehouse.unloaded(data_dir, memory_limit), catalog, min_n, exact)
        engine.prebuilt, engine.comments, engine.sorted_models = prebuilt, comments, sorted_models
        engine.use_store(store_dir, build, progress)
        return engine

    @classmethod
    def serving(
        cls, warehouse: Warehouse, store: Store, catalog: Catalog, min_n: int = DEFAULT_MIN_N
    ) -> Engine:
        """Return an engine answering from a built `store` as it is, over an open, unloaded warehouse
        (`Warehouse.unloaded`), which is sealed here."""
        engine = cls(warehouse, catalog, min_n)
        try:
            engine._serve(store, read_previous=False)
        finally:
            engine.warehouse.seal()
        return engine

    def use_store(self, store_dir: Path, build: bool = False, progress: Progress | None = None) -> bool:
        """Read from the store of these inputs, metric files and SQL in `store_dir`, building it when
        missing and `build` is true; return whether a store is in use. The warehouse must be open
        (`Warehouse(data_dir, sealed=False)`): building and attaching are its last file access, and it
        is sealed here whatever happens."""
        try:
            return self._use_store(store_dir, build, progress)
        finally:
            if not self.warehouse.loaded:  # no store to serve from: the parquet is copied in
                self.warehouse.load()
            self.warehouse.seal()

    def _use_store(self, store_dir: Path, build: bool, progress: Progress | None) -> bool:
        built_from = fingerprint(self.warehouse, list(self.catalog.metrics.values()))
        path = built_from.path(store_dir)
        store = open_store(path)
        if store is not None or not build:
            return self._serve(store, read_previous=False)
        try:
            with build_lock(store_dir, progress):
                clean_scratch(store_dir)
                # Another process may have built it while this one waited for the lock.
                store = open_store(path)
                if store is not None:
                    return self._serve(store, read_previous=False)
                store, read_previous = self._build(path, built_from, progress)
        except OSError as error:  # no lock where no file can be written: it only costs speed
            warnings.warn(f"no store in {store_dir}: {error}; answering from the parquet", stacklevel=2)
            return self._serve(None, read_previous=False)
        return self._serve(store, read_previous)

    def _build(
        self, path: Path, built_from: Fingerprint, progress: Progress | None
    ) -> tuple[Store | None, bool]:
        """Build the store at `path`; return it (None when its folder cannot be written) and whether
        the warehouse read an earlier store to build it."""
        previous = None
        loading = not self.warehouse.loaded
        if loading:
            # What reads only inputs unchanged since the last build is copied from its store.
            previous = previous_store(path, built_from)
            self.warehouse = _scratch(self.warehouse, path)
        try:
            with new_store(self.warehouse, path, progress):
                if loading:
                    # Each input is copied into the store as it is read and checked, once.
                    earlier = previous.store.path if previous is not None else None
                    unchanged = previous.unchanged if previous is not None else frozenset()
                    self.warehouse.load(earlier, unchanged, progress, into=ALIAS)
                # Only metrics whose inputs can be served get cubes; queries of the others fail anyway.
                usable = [
                    (m, self.dimensions(m), self.columns(m))
                    for m in self.catalog.metrics.values()
                    if not self.unusable(m)
                ]
                build_store(
                    self.warehouse,
                    usable,
                    built_from,
                    progress,
                    self.analysis_cubes(),
                    previous,
                    self.prebuilt,
                    self.comments,
                    self.sorted_models,
                )
        except (OSError, duckdb.IOException) as error:
            # A folder that cannot be written only costs speed: answer from the parquet.
            warnings.warn(f"no store in {path.parent}: {error}; answering from the parquet", stacklevel=2)
            if loading:  # its inputs were copied into the file that is gone: they are read again
                self._reload()
            return None, previous is not None
        except BaseException:
            if loading and not self.warehouse.loaded:  # half copied into a file that is gone
                self._reload()
            raise
        return open_store(path), previous is not None

    def _reload(self) -> None:
        """Replace a warehouse whose inputs went with a store file that is gone by a fresh, unloaded
        one over the same inputs (`use_store` loads it)."""
        broken, self.warehouse = self.warehouse, _reopened(self.warehouse)
        broken.close()

    def _serve(self, store: Store | None, read_previous: bool) -> bool:
        """Serve from `store`, or from the parquet when there is none; return whether a store is used."""
        read = self.warehouse
        if store is None:
            # The scratch copy, or one reading an earlier store, goes; the parquet is copied into memory.
            if read.database is not None or read_previous:
                self.warehouse = _reopened(read)
                read.close()
            return False
        self.forget_results()
        if read.loaded:
            # Serve from the store alone, found or just built: the copy the build read is let go.
            self.warehouse = _reopened(read)
            read.close()
        self.warehouse.load_from_store(store.path)
        self.store = store
        # Each metric's columns as the build bound its SQL, where that SQL is still the metric's: a
        # start would otherwise bind each again as a page first asks for it (43 metrics: 50-80 ms at
        # 10M responses, spread over the first visit of each page).
        with self._lock:
            for name, found in store.columns.items():
                metric = self.catalog.metrics.get(name)
                if metric is not None and found.digest == metric_digest(metric):
                    self._columns.setdefault(f"metric {name}", found.columns)
            # A store table's columns are those of its file, recorded there: the 42 cube tables took
            # 24-29 ms to bind again. Those of a store served before go (a table of the same name may
            # differ).
            for key in [k for k in self._columns if k.startswith(_table_key(""))]:
                del self._columns[key]
            for table, kinds in store.tables.items():
                self._columns[_table_key(table)] = dict(kinds)
        return True

    def metric(self, name: str) -> Metric:
        """Return the named metric or raise QueryError suggesting the closest names."""
        try:
            return self.catalog.metrics[name]
        except KeyError:
            close = _similar(name, list(self.catalog.metrics))
            hint = f"; did you mean {', '.join(close)}?" if close else "; `cx metrics` lists them"
            raise QueryError(f"unknown metric '{name}'{hint}") from None

    def columns(self, metric: Metric) -> dict[str, str]:
        """Return the columns (name -> type) of the metric's rows, binding its SQL without running it."""
        return self._describe(f"metric {metric.name}", metric.sql)

    def _describe(self, key: str, sql: str) -> dict[str, str]:
        """Return the columns (name -> type) a SQL text yields, bound once per engine and kept."""
        with self._lock:
            if key not in self._columns:
                described = self.warehouse.cursor().execute(f"describe {sql}").fetchall()
                self._columns[key] = {str(row[0]): str(row[1]) for row in described}
            return self._columns[key]

    def dimensions(self, metric: Metric) -> tuple[str, ...]:
        """Return the dimensions this metric can be filtered and broken down by."""
        columns = self.columns(metric)
        return tuple(d for d in DIMENSIONS if d in columns)

    def inputs(self, metric: Metric) -> frozenset[str]:
        """Return the inputs the metric reads."""
        return self.warehouse.inputs_read(metric.sql)

    def computable(self, name: str) -> bool:
        """Whether the catalog has the metric `name` and the inputs it reads can be used."""
        return name in self.catalog.metrics and not self.unusable(self.catalog.metrics[name])

    def unusable(self, metric: Metric) -> frozenset[str]:
        """Return the inputs the metric reads that cannot be used (missing, or failing their checks):
        none when it can be computed. A page leaves out what needs them and says so, and shows the rest."""
        return self.inputs(metric) - self.warehouse.usable_inputs()

    def threshold(self, metric: Metric) -> int:
        """Return the suppression minimum for a metric: a metric may raise the floor, never lower it."""
        return max(self.min_n, metric.min_n or 0)

    def applicable(self, query: Query) -> tuple[Query, tuple[str, ...]]:
        """Return the query without the filters its metric's rows cannot take, and the dropped dimensions.

        Pages apply one set of filters to many metrics; a metric whose rows carry no `segment`
        (say) is shown unfiltered by segment, and the page says so."""
        available = self.dimensions(self.metric(query.metric))
        kept = tuple((d, v) for d, v in query.where if d in available)
        dropped = tuple(d for d, _ in query.where if d not in available)
        return Query(query.metric, query.by, kept, query.start, query.end), dropped

    def confined(self, services: frozenset[str] | None) -> Engine:
        """Return an engine that answers only about `services` (None: every service), over this one's
        warehouse, store and remembered results. Every question it is asked is narrowed to those
        services before it runs (`_within`), so its totals, "all services", tiles, tables and exports
        are theirs alone, whatever a page or a link asks; the remembered results stay shared, as a
        narrowed question is a different question."""
        if services is None:
            return self
        twin = copy.copy(self)
        twin.scope = frozenset(services)
        return twin

    def may_see(self, service: str) -> bool:
        """Return whether this engine answers about `service`."""
        return self.scope is None or service in self.scope

    def visible(self, frame: pl.DataFrame, column: str = "service") -> pl.DataFrame:
        """Return the rows of a frame read beside the metrics (the A-11 report, the release rule,
        question wording) about services this engine answers about; `column` names the service."""
        if self.scope is None:
            return frame
        return frame.filter(pl.col(column).is_in(sorted(self.scope)))

    def _within(
        self, where: tuple[tuple[str, tuple[str, ...]], ...]
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Return filters narrowed to the engine's services: a service filter keeps the services it
        may see (none left is an AccessError), and a question without one gets one."""
        if self.scope is None:
            return where
        if not self.scope:
            raise AccessError("you may see no service: the access file grants you none")
        narrowed = []
        for dimension, values in where:
            if dimension == "service":
                kept = tuple(v for v in values if v in self.scope)
                if not kept:
                    raise AccessError(f"not among the services you may see: {', '.join(values)}")
                values = kept
            narrowed.append((dimension, values))
        if not any(d == "service" for d, _ in where):
            narrowed.append(("service", tuple(sorted(self.scope))))
        return tuple(narrowed)

    def _narrowed(self, query: Query) -> Query:
        if self.scope is None:
            return query
        return Query(query.metric, query.by, self._within(query.where), query.start, query.end)

    def run(self, query: Query) -> pl.DataFrame:
        """Return one row per group: the `by` columns, value, n, ci_low, ci_high, suppressed (and mean)."""
        return self._remembered(self._narrowed(query), fast=True)

    def run_many(self, queries: Sequence[Query]) -> list[pl.DataFrame]:
        """Return `run` of each query, in order: those cubes answer alike in one statement per stack
        (`_stacks`), the stacks and the other queries side by side (see `each`)."""
        return self.ask(queries).answers()

    def ask(self, queries: Sequence[Query]) -> Asked:
        """Start answering the queries as `run_many` does, on the engine's workers, and return at
        once: `Asked.answers` waits for them. Questions asked after are answered after, so a page
        can work on the answers of some while the workers answer the others."""
        queries = [self._narrowed(q) for q in queries]
        with self._lock:
            missing = [
                q for q in dict.fromkeys(queries) if (q, True, self.min_n, self.exact) not in self._results
            ]
        many = self.store and len(missing) > 1
        breakdowns = self._breakdowns(missing) if many else []
        broken = {query for job in breakdowns for query, _, _ in job.members}
        stacks = self._stacks([q for q in missing if q not in broken]) if many else []
        stacked = broken | {query for stack in stacks for query, _, _ in stack}
        shared = self._shared_reads([q for q in missing if q not in stacked]) if len(missing) > 1 else []
        read_once = {query for group in shared for query in group}
        together = self._read_together(shared)
        # The workers take the jobs in order, so the longest go first: a query answered alone is a
        # quantile's or one no cube answers (it reads the rows, or a quantile's every value), and a
        # shared read reads the rows too, where a stack sums a few cube rows. Stacks last, the tiles'
        # two median waits no longer start after their four stacks are done.
        jobs: list[_Job] = [
            *breakdowns,
            *(q for q in missing if q not in stacked and q not in read_once),
            *together,
            *stacks,
        ]
        return Asked(self, queries, self._started(self._job, jobs))

    def stacked(self, queries: Sequence[Query]) -> pl.DataFrame:
        """Return the answers to `queries`, as `run_many` gives them, in one table: each query's rows
        after the one's before, `cx_part` its place in `queries`, its groups in `cx_key0`, `cx_key1`
        ... as text (its first dimension's first; null past its last), then the statistics. A
        breakdown answered with others in one statement is read off that statement's finished table
        rather than from its own answer: the overview's gap search reads some 360 a view, and each
        answer read apart cost it more than its comparisons."""
        answers = self.run_many(queries)
        keys = composition.breakdown_keys(max((len(q.by) for q in queries), default=0))
        statistics = list(
            dict.fromkeys(
                c for q, a in zip(queries, answers, strict=True) for c in a.columns if c not in q.by
            )
        )
        # Each piece: a frame, each of its rows' place in `queries`, its columns of each key, and the
        # statistics its answers have (a statement of several metrics holds a mean for each; a
        # metric with no score answers none).
        pieces: list[tuple[pl.DataFrame, np.ndarray, Sequence[str | None], Sequence[str]]] = []
        tables: dict[tuple[int, tuple[str, ...]], tuple[pl.DataFrame, dict[int, int]]] = {}
        for place, (query, answer) in enumerate(zip(queries, answers, strict=True)):
            key = (self._narrowed(query), True, self.min_n, self.exact)
            own = tuple(c for c in answer.columns if c not in query.by)
            with self._lock:
                cut = self._cut_from.get(key)
            if cut is not None and cut[2] is answer:
                tables.setdefault((id(cut[0]), own), (cut[0], {}))[1][cut[1]] = place
            else:
                pieces.append((answer, np.full(answer.height, place, dtype=np.int64), query.by, own))
        for (_, own), (table, wanted) in tables.items():
            # Polars' operations cost a fixed tenth of a millisecond or so each: the rows are picked
            # and placed with numpy, and the columns gathered once. Only the answers' own columns are
            # read from it: the table keeps each cell's true count, which never leaves the engine.
            held = table.get_column("cx_part").to_numpy()
            place_of = np.full(max(int(held.max(initial=0)), *wanted) + 1, -1, dtype=np.int64)
            place_of[list(wanted)] = list(wanted.values())
            rows = np.flatnonzero(place_of[held] >= 0)
            pieces.append((table[rows], place_of[held[rows]], keys, own))
        if not pieces:
            return pl.DataFrame(schema={"cx_part": pl.Int64, **dict.fromkeys(keys, pl.String)})
        places = np.concatenate([p for _, p, _, _ in pieces])
        columns = [pl.Series("cx_part", places)]
        for i, name in enumerate([*keys, *statistics]):
            found = []
            for frame, placed, read, has in pieces:
                source = (read[i] if i < len(read) else None) if i < len(keys) else name
                if source is None or source not in frame.columns or (i >= len(keys) and source not in has):
                    found.append(
                        pl.Series(name, [None] * len(placed), dtype=pl.String if i < len(keys) else None)
                    )
                else:
                    found.append(frame.get_column(source).alias(name))
            kind = (
                pl.String if i < len(keys) else next((f.dtype for f in found if f.dtype != pl.Null), pl.Null)
            )
            columns.append(pl.concat([f if f.dtype == kind else f.cast(kind) for f in found]))
        stacked = pl.DataFrame(columns)
        # One query's rows after another's, each's in the order it has them.
        if len(places) > 1 and (np.diff(places) < 0).any():
            stacked = stacked[np.argsort(places, kind="stable")]
        return stacked

    def _job(self, job: _Job) -> None:
        if isinstance(job, Query):
            self.run(job)
        elif isinstance(job, _Breakdowns):
            self._run_breakdowns(job)
        elif isinstance(job, _SharedReads):
            self._run_shared_reads(job)
        else:
            self._run_stack(job)

    def _summed_cubes(
        self, queries: Sequence[Query]
    ) -> Iterator[tuple[Query, Metric, Cube, list[str], dict[str, object]]]:
        """Yield each distinct query a cube answers by summing its totals (a quantile's keeps every
        value: no), with that cube and the query's conditions and parameters."""
        for query in dict.fromkeys(queries):
            try:
                metric, conditions, params = self._prepare(query)
            except CxError:
                continue  # answered alone, so the error names its query
            cube = self.store.cube(metric.name, _needed(query)) if self.store else None
            if cube is not None and metric.aggregate not in QUANTILES:
                yield query, metric, cube, conditions, params

    def _breakdowns(self, queries: Sequence[Query]) -> list[_Breakdowns]:
        """Group the queries of one metric under the same filters that its cube table answers with
        several breakdowns (the overview's gap search asks some sixty per measure), and those of the
        metrics with the same aggregate under the same filters, into one job per worker, each answered
        by one statement that reads each of its metrics' cube tables once (`_run_breakdowns`). The
        metrics are dealt to the workers whole; a metric alone is cut in one part per worker."""
        kinds: dict[tuple[object, ...], list[tuple[Query, Metric, Cube]]] = {}
        for query, metric, cube, conditions, params in self._summed_cubes(queries):
            # The statement reads each part's groups into shared text columns: a dimension of
            # another type is answered by a statement of its own, in its own type.
            text = all(self.columns(metric)[d] == "VARCHAR" for d in query.by)
            if cube.grain is not None and text:
                key = (metric.name, cube.table, tuple(conditions), tuple(params.items()))
                kinds.setdefault(key, []).append((query, metric, cube))
        alike: dict[tuple[object, ...], list[list[tuple[Query, Metric, Cube]]]] = {}
        for kind, members in kinds.items():
            if len({q.by for q, _, _ in members}) >= BREAKDOWNS:
                alike.setdefault((members[0][1].aggregate, *kind[2:]), []).append(members)
        jobs = []
        for metrics in alike.values():
            if len(metrics) == 1:
                parts = [metrics[0][start::WORKERS] for start in range(WORKERS)]
            else:
                parts = [[m for members in dealt for m in members] for dealt in _dealt(metrics)]
            jobs += [_Breakdowns(part) for part in parts if part]
        return jobs

    def _run_breakdowns(self, job: _Breakdowns) -> None:
        """Answer breakdowns under the same filters in one statement, one read of each metric's cube
        table (its members are together in the job), then finish the totals once and remember each
        query's part. Six measures' breakdowns in two statements took the overview's gap search 69 ms
        at 200,000 responses, against 99 ms in one statement per measure, two at a time."""
        first, metric, _ = job.members[0]
        _, conditions, params = self._prepare(first)
        reads, start, bound = [], 0, dict(params)
        for _, read in itertools.groupby(job.members, key=lambda member: member[2].table):
            members = list(read)
            cube = members[0][2]
            grains = [(int(c.grain or 0), q.by) for q, _, c in members]
            sql, parts = composition.breakdowns_over(
                self._source(cube, (c for _, _, c in members)),
                grains,
                self._sums(cube, ()),
                conditions,
                start,
            )
            reads.append(sql)
            bound.update(parts)
            start += len(members)
        totals = "\nunion all by name\n".join(reads)
        sql = f"with totals as (\n{totals}\n)\nselect * from (\n{composition.finish(metric.aggregate)}\n)"
        keys = [tuple(composition.breakdown_keys(len(q.by))) for q, _, _ in job.members]
        self._remember_parts(sql, bound, job.members, keys)

    def _shared_reads(self, queries: Sequence[Query]) -> list[tuple[Query, ...]]:
        """Group the queries no cube answers that read one metric's rows under the same filters and
        period, each with its own breakdown (one equity group within another under a page filter, for
        the overview's gaps), into groups of two or more that read the rows once (`_run_shared_reads`)."""
        groups: dict[tuple[object, ...], list[Query]] = {}
        for query in queries:
            try:
                metric, conditions, params = self._prepare(query)
            except CxError:
                continue  # answered alone, so the error names its query
            if metric.aggregate in QUANTILES or (self.store and self.store.cube(metric.name, _needed(query))):
                continue
            groups.setdefault((metric.name, tuple(conditions), tuple(params.items())), []).append(query)
        return [tuple(members) for members in groups.values() if len(members) > 1]

    def _read_together(self, shared: Sequence[tuple[Query, ...]]) -> list[_SharedReads]:
        """Deal the groups of `_shared_reads` of one aggregate under the same filters (the overview's
        gap search asks one per measure) into one job per worker, each answered by one statement
        (`_run_shared_reads`); the measures are dealt whole, as `_breakdowns` deals them."""
        alike: dict[tuple[object, ...], list[tuple[Query, ...]]] = {}
        for group in shared:
            metric, conditions, params = self._prepare(group[0])
            # A dimension of another type than text (a metric file may give one so) is read in its own
            # statement: beside another metric's text of the same name, it would be read as text.
            kind = metric.aggregate if self._all_text(metric, group) else metric.name
            alike.setdefault((kind, tuple(conditions), tuple(params.items())), []).append(group)
        return [_SharedReads(dealt) for groups in alike.values() for dealt in _dealt(groups)]

    def _run_shared_reads(self, job: _SharedReads) -> None:
        """Answer the queries of one or more metrics of one aggregate under the same filters in one
        statement and remember each result. Each metric's rows are read once into totals by every
        dimension any of its queries breaks down by (an ad hoc cube, `fine`), each query's totals are
        summed from those, and all are finished together. Every total is a sum, so this equals reading
        the rows once per query (`_read_once`). Planning a statement and its finishing step is about
        half of such a read's time at 200,000 responses (5 of 11 ms): the gap search's six measures
        read in two statements rather than six took its page-filtered views from 160-166 ms to
        130-154 ms at the median there, three runs each."""
        reads: list[str] = []
        keys: list[tuple[str, ...]] = []
        members: list[tuple[Query, Metric, Cube | None]] = []
        bound: dict[str, object] = {}
        for group in job.groups:
            metric, conditions, params = self._prepare(group[0])
            read, read_keys, parts = self._read_once(metric, group, conditions, len(members))
            reads.append(read)
            keys += read_keys
            bound.update(params)
            bound.update(parts)
            members += [(query, metric, None) for query in group]
        aggregate = members[0][1].aggregate
        totals = "\nunion all by name\n".join(f"select * from (\n{read}\n)" for read in reads)
        sql = f"with totals as (\n{totals}\n)\nselect * from (\n{composition.finish(aggregate)}\n)"
        self._remember_parts(sql, bound, members, keys)

    def _read_once(
        self,
        metric: Metric,
        group: tuple[Query, ...],
        conditions: Sequence[str],
        first: int,
    ) -> tuple[str, list[tuple[str, ...]], dict[str, object]]:
        """Return the totals of each query of `group` (one metric's, under the same filters) from one
        read of its rows, each tagged `cx_part` (its place among a statement's parts, counted from
        `first`), the columns holding each one's groups, and the parameters the read binds besides the
        filters'. Where every dimension is text, the parts are summed in one grouping of `fine` tagged
        by part, as a cube table's breakdowns are (composition.breakdowns_over): summed one grouping
        per part, the overview's twenty-one pairs of equity groups took 50 ms of a 65 ms statement at
        200,000 responses, against 13 ms in one."""
        columns = self.columns(metric)
        every = list(dict.fromkeys(d for query in group for d in query.by))
        bound: dict[str, object] = {}
        if self._all_text(metric, group):
            parts, bound = composition.breakdowns_over(
                f"(select 0 as {GRAIN_COLUMN}, * from fine)",
                [(0, query.by) for query in group],
                composition.sums(metric.aggregate),
                [],
                first,
            )
            keys = [tuple(composition.breakdown_keys(len(query.by))) for query in group]
        else:
            listed = ", ".join(map(quote_identifier, every))
            parts = "\nunion all by name\n".join(
                f"select {first + i} as cx_part, {''.join(quote_identifier(d) + ', ' for d in query.by)}"
                f"sum(columns(* exclude ({listed}))) from fine group by all"
                for i, query in enumerate(group)
            )
            keys = [query.by for query in group]
        read = (
            f"{composition.input_sql(metric.sql, columns, every, conditions)},\n"
            f"fine as materialized (\n{composition.totals(metric.aggregate)}\n),\n"
            f"parts as (\n{parts}\n)\nselect * from parts"
        )
        return read, keys, bound

    def _all_text(self, metric: Metric, group: Sequence[Query]) -> bool:
        """Whether every dimension the queries of `group` break `metric` down by is text."""
        columns = self.columns(metric)
        return all(columns.get(d, "").upper() == "VARCHAR" for query in group for d in query.by)

    def each(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Return `function` of each item, in order, computed on the engine's worker threads: a page
        asks many small independent questions, and each spends most of its time in DuckDB. The first
        error raised is raised here. Called from a worker, it works through the items itself, so
        nested calls never wait on each other for a worker."""
        return [future.result() for future in self._started(function, list(items))]

    def _started(self, function: Callable[[T], R], items: Sequence[T]) -> list[Future[R]]:
        """Return a future of `function` of each item, begun on the engine's workers; done here first
        where there is one item or one worker, or called from a worker (see `each`)."""
        if len(items) < 2 or WORKERS < 2 or threading.current_thread().name.startswith(_WORKER_NAME):
            return [_done(function, item) for item in items]
        with self._lock:
            if self._workers is None:
                self._workers = ThreadPoolExecutor(WORKERS, thread_name_prefix=_WORKER_NAME)
            workers = self._workers
        return [workers.submit(function, item) for item in items]

    def remembered(self, key: tuple[object, ...], compute: Callable[[], R]) -> R:
        """Return what `compute` returns, computed once per `key` while the engine remembers its
        results: an analysis of many results that a page asks for twice (the overview's gap search,
        ahead of its parts and in its own) is worked out once. An engine confined to some services
        shares what its twin remembers (`confined`), so the services it answers about are part of
        the key: its analyses read only their answers."""
        key = (*key, self.min_n, self.exact, self.scope)
        with self._lock:
            if key in self._analyses:
                self._analyses.move_to_end(key)
                return self._analyses[key]  # type: ignore[return-value]
        found = compute()
        with self._lock:
            self._analyses[key] = found
            while len(self._analyses) > REMEMBERED_ANALYSES:
                self._analyses.popitem(last=False)
        return found

    def direct(self, query: Query) -> pl.DataFrame:
        """Return what `run` returns, computed from the metric's rows even when a cube could answer."""
        return self._remembered(self._narrowed(query), fast=False)

    def forget_results(self) -> None:
        """Drop every remembered result (the benchmark times each change from a cold start)."""
        with self._lock:
            self._results.clear()
            self._analyses.clear()
            self._cut_from.clear()

    def _remembered(self, query: Query, fast: bool) -> pl.DataFrame:
        """Return the result of a query, computed once per engine: an engine serves one set of inputs
        and metric files, so a result stays right for its life, and pages ask the same question more
        than once (a chart's metric is also in the grid beside it)."""
        key = (query, fast, self.min_n, self.exact)
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        result = self._run(query, fast)
        self._remember(key, result)
        return result

    def _remember(self, key: tuple[Query, bool, int, bool], result: pl.DataFrame) -> None:
        with self._lock:
            self._results[key] = result
            while len(self._results) > REMEMBERED_RESULTS:
                self._results.popitem(last=False)

    def _run(self, query: Query, fast: bool) -> pl.DataFrame:
        metric, conditions, params = self._prepare(query)
        table = self._from_cube(metric, query, conditions, params) if fast and self.store else None
        if table is not None and not query.by and not table.height:
            return self._over_no_rows(metric)  # no rows: the direct computation still returns one
        if table is None:
            direct = composition.direct_sql(
                metric.sql, self.columns(metric), metric.aggregate, query.by, conditions
            )
            table = self._execute(metric, direct, params)
        return self._finished(metric, query, table)

    def _prepare(self, query: Query) -> tuple[Metric, list[str], dict[str, object]]:
        """Check a query against its metric; return the metric, its conditions and bound parameters.
        A query is checked once per engine: planning a page's questions asks again for each."""
        key = (query, self.scope is not None, self.exact)
        with self._lock:
            found = self._prepared.get(key)
        if found is None:
            found = self._checked(query)
            with self._lock:
                if len(self._prepared) >= REMEMBERED_RESULTS:
                    self._prepared.clear()
                self._prepared[key] = found
        metric, conditions, params = found
        return metric, list(conditions), dict(params)

    def _checked(self, query: Query) -> tuple[Metric, list[str], dict[str, object]]:
        metric = self.metric(query.metric)
        self.warehouse.require(self.inputs(metric), f"metric '{metric.name}'")
        available = self.dimensions(metric)
        if self.scope is not None and "service" not in available:
            raise AccessError(
                f"metric '{metric.name}' is not broken down by service, so it is not shown to someone "
                "who may see only some services"
            )
        self._check_dimensions(metric, query, available)
        start, end = composition.period(query.start, query.end)
        if (start or end) and "fiscal_quarter" not in available:
            raise QueryError(f"metric '{metric.name}' has no fiscal_quarter, so it cannot take a period")
        conditions, params = composition.conditions(query.where, start, end)
        params["exact"] = self.exact
        if metric.aggregate in QUANTILES:
            params["quantile"] = QUANTILES[metric.aggregate]
        return metric, conditions, params

    def _finished(self, metric: Metric, query: Query, table: pl.DataFrame) -> pl.DataFrame:
        """Put a query's groups in display order, hide small cells and keep the result columns."""
        keep = [*query.by, *RESULT_COLUMNS] + (["mean"] if "score" in self.columns(metric) else [])
        return suppress(_in_display_order(table, query.by), query.by, self.threshold(metric), keep)

    def _stacks(self, queries: Sequence[Query]) -> list[list[tuple[Query, Metric, Cube]]]:
        """Group the queries cubes can answer that share an aggregate (a page's tiles, the headline
        answer's periods, say) into stacks of two or more, each answered by one statement
        (`_run_stack`); a stack of four or more is cut in one per worker.
        Planning a statement costs more here than summing a cube, and the finishing step is the
        costly part to plan. Queries left out of every stack are answered one by one."""
        kinds: dict[str, list[tuple[Query, Metric, Cube]]] = {}
        for query, metric, cube, _, _ in self._summed_cubes(queries):
            kinds.setdefault(metric.aggregate, []).append((query, metric, cube))
        # A stack of four or more is cut into one per worker, so the workers share its planning: the
        # headline answer's five periods took 13 ms in two statements at 200,000 responses, against
        # 17-18 ms in one.
        return [
            members[start::parts]
            for members in kinds.values()
            for parts in [max(1, min(WORKERS, len(members) // 2))]
            for start in range(parts)
            if len(members) > 1
        ]

    def _run_stack(self, members: list[tuple[Query, Metric, Cube]]) -> None:
        """Answer a stack of queries of one aggregate in one statement and remember each result: each
        cube's totals under its own query's breakdown and filters (their parameters renamed apart),
        stacked, tagged with their query, and finished once. The headline answer's five questions
        over as many periods took 45 ms in one statement at 200,000 responses, against 64 ms in five."""
        aggregate = members[0][1].aggregate
        parts, bound = [], {}
        for i, (query, metric, cube) in enumerate(members):
            _, conditions, params = self._prepare(query)
            own = {name for name in params if name not in _SHARED_PARAMETERS}
            renamed = [_renamed(c, own, f"s{i}_") for c in conditions]
            bound.update({f"s{i}_{name}" if name in own else name: value for name, value in params.items()})
            parts.append(
                f"select {i} as cx_part, * from ({self._rollup(metric, cube, query.by, renamed, cell=False)})"
            )
        stacked = "\nunion all by name\n".join(parts)
        sql = f"with totals as (\n{stacked}\n)\nselect * from (\n{composition.finish(aggregate)}\n)"
        self._remember_parts(sql, bound, members)

    def _remember_parts(
        self,
        sql: str,
        params: dict[str, object],
        members: Sequence[tuple[Query, Metric, Cube | None]],
        keys: Sequence[tuple[str, ...]] | None = None,
    ) -> None:
        """Run a statement answering several queries at once, its rows tagged `cx_part` (each query's
        place in `members`), and remember each query's part as `run` would have answered it. `keys`:
        the columns holding each part's groups, where not its dimensions' own."""
        try:
            table = self.warehouse.frame(sql, params)
        except duckdb.Error:
            return  # each is then answered alone, and a failure names its metric file
        key = (self.min_n, self.exact)
        hidden, finished = self._finished_parts(table, members, keys)
        for place, ((query, metric, _), part) in enumerate(zip(members, finished, strict=True)):
            result = self._over_no_rows(metric) if part is None else part
            self._remember((query, True, *key), result)
            if keys is not None and part is not None and query.by:
                with self._lock:
                    self._cut_from[(query, True, *key)] = (hidden, place, result)
                    while len(self._cut_from) > REMEMBERED_RESULTS:
                        self._cut_from.popitem(last=False)

    def _finished_parts(
        self,
        table: pl.DataFrame,
        members: Sequence[tuple[Query, Metric, Cube | None]],
        keys: Sequence[tuple[str, ...]] | None = None,
    ) -> tuple[pl.DataFrame, list[pl.DataFrame | None]]:
        """Finish each query's part of a table answering several (`cx_part`: its place in `members`)
        as `_finished` finishes one; None for a part with no rows and no breakdown (the direct
        computation returns one row even over no rows: `_over_no_rows`). `keys`: the columns holding each
        part's groups, in the order of its breakdown (its dimensions' own by default). Every part is
        put in display order, checked for cells empty or under its minimum, and hidden
        (`suppress_parts`) in one step each over the whole table, then cut out: each part is a slice
        of one frame per shape (its group columns and statistics), its group columns renamed, which
        took the gap search's 366 parts 2 ms against 14 ms for a frame built per part. Returned with
        the finished table they are cut from, every part's rows in place order."""
        minimums = [self.threshold(metric) for _, metric, _ in members]
        bys = [q.by for q, _, _ in members]
        columns = list(keys) if keys is not None else bys
        flagged = table.with_columns(
            under_minimum(table, pl.col("cx_part").replace_strict(range(len(members)), minimums)).alias(
                "cx_hide"
            )
        )
        hiding = set(flagged.filter(pl.col("cx_hide"))["cx_part"].to_list())
        ordered = _parts_in_display_order(flagged.drop("cx_hide"), bys, columns)
        hidden = suppress_parts(ordered, columns, minimums, hiding)
        places = hidden["cx_part"].to_numpy()
        if (np.diff(places) < 0).any():  # parts with no breakdown are left in the statement's order
            hidden = hidden.sort("cx_part", maintain_order=True)
            places = hidden["cx_part"].to_numpy()
        starts = np.searchsorted(places, np.arange(len(members) + 1)).tolist()
        shapes: dict[tuple[str, ...], pl.DataFrame] = {}
        finished: list[pl.DataFrame | None] = []
        for i, (query, metric, _) in enumerate(members):
            statistics = [*RESULT_COLUMNS] + (["mean"] if "score" in self.columns(metric) else [])
            start, end = starts[i], starts[i + 1]
            if not query.by and start == end:
                finished.append(None)
                continue
            # No rows are typed as the others (and as `run` types them).
            shape = (*columns[i], *statistics)
            if shape not in shapes:
                shapes[shape] = hidden.select(shape)
            part = shapes[shape].slice(start, end - start)
            part.columns = [*query.by, *statistics]
            finished.append(part)
        return hidden, finished

    def _rollup(
        self, metric: Metric, cube: Cube, by: Sequence[str], conditions: Sequence[str], cell: bool
    ) -> str:
        """Return the totals of a cube's rows that pass `conditions`, summed again over `by`. A quantile
        cube keeps each value as a key; with `cell`, each group's rows get one value to partition by."""
        if metric.aggregate not in QUANTILES:
            return self._summed(cube, by, conditions)
        return composition.histogram_over(self._source(cube), by, conditions, cube.grain, cell)

    def _summed(self, cube: Cube, keys: Sequence[str], conditions: Sequence[str]) -> str:
        """Return the sums of a cube's rows that pass `conditions`, grouped by `keys` (columns of the
        cube): every column that is neither a dimension nor a key is a sum, summed again."""
        return composition.sum_over(
            self._source(cube),
            list(map(quote_identifier, keys)),
            self._sums(cube, keys),
            conditions,
            cube.grain,
        )

    def _sums(self, cube: Cube, keys: Sequence[str]) -> list[str]:
        """Return a cube's sum columns: those neither a dimension nor one of `keys`. A metric's cube
        table holds every grain of the metric, and the dimensions of the others besides."""
        described = self._cube_columns(cube)
        others = DIMENSIONS if cube.grain is not None else ()
        return [
            c
            for c in described
            if c not in cube.dimensions and c not in keys and c not in others and c != GRAIN_COLUMN
        ]

    def _cube_columns(self, cube: Cube) -> dict[str, str]:
        """Return the columns (name -> type) of a cube's table, as the store recorded them (bound on
        first use where it did not)."""
        return self._describe(_table_key(cube.table), f"select * from {_table(cube)}")

    def _source(self, cube: Cube, read: Iterable[Cube] = ()) -> str:
        """Return what a cube's table is read from: the table, the dimensions of its grain (and of the
        grains `read` besides, of the same table) kept as codes (store._coded_dimensions) read as
        text, as the rows give them and a page's values are. A statement names no other dimension,
        and casting every one cost DuckDB's planning what it then dropped: the overview's 59 cube
        statements of four views at 10M responses took 7% less so, one at a time (784-787 against
        839-845 ms of DuckDB's time in two runs of ten rounds, the same results)."""
        table = _table(cube)
        used = cube.dimensions.union(*(other.dimensions for other in read))
        coded = [
            quote_identifier(c)
            for c, kind in self._cube_columns(cube).items()
            if kind.startswith("ENUM(") and c in used
        ]
        if not coded:
            return table
        return f"(select * replace ({', '.join(f'cast({c} as varchar) as {c}' for c in coded)}) from {table})"

    def _from_cube(
        self, metric: Metric, query: Query, conditions: list[str], params: dict[str, object]
    ) -> pl.DataFrame | None:
        """Answer from the shortest cube carrying the breakdown and filters: its totals summed again
        over the groups asked for, then the same finishing step as the direct computation. No rows
        where no row passes the filters, even with no breakdown (`_run` gives the one row then)."""
        assert self.store is not None
        cube = self.store.cube(metric.name, _needed(query))
        if cube is None:
            return None
        if metric.aggregate in QUANTILES and cube.grain is not None and _whole_cells(query, cube):
            # Each group one cell of the grain: its running counts are in the cube.
            cells = composition.cells_over(self._source(cube), query.by, conditions, cube.grain)
            sql = f"with cumulative as (\n{cells}\n)\nselect * from (\n{composition.histogram()}\n)"
            return self._execute(metric, sql, params)
        totals = self._rollup(metric, cube, query.by, conditions, cell=True)
        finish = composition.finish(metric.aggregate, from_cube=True)
        return self._execute(metric, f"with totals as (\n{totals}\n)\nselect * from (\n{finish}\n)", params)

    def _over_no_rows(self, metric: Metric) -> pl.DataFrame:
        """Return what `run` answers for `metric` with no breakdown where no row passes the filters:
        the direct computation's one row over no rows, the same whatever the filters and period. It
        is computed once per metric over a condition no row passes, so it depends on no row (and
        outlives `forget_results`): a view with none of a measure's rows, which a cube tells, no
        longer has its rows read for that row (the gap search's question of the whole view took
        4-5 ms at 200,000 responses, and a scan of the rows at 100M)."""
        key = (metric.name, self.min_n, self.exact)
        with self._lock:
            found = self._nothing.get(key)
        if found is None:
            query = Query(metric.name)
            _, _, params = self._prepare(query)
            sql = composition.direct_sql(metric.sql, self.columns(metric), metric.aggregate, (), ["false"])
            found = self._finished(metric, query, self._execute(metric, sql, params))
            with self._lock:
                self._nothing[key] = found
        return found

    def _execute(self, metric: Metric, sql: str, params: dict[str, object]) -> pl.DataFrame:
        try:
            return self.warehouse.frame(sql, params)
        except duckdb.Error as error:
            raise CxError(f"{metric.path.name}: the query failed: {str(error).splitlines()[0]}") from error

    def analyse(self, name: str, filters: Filters, fast: bool = True) -> tuple[pl.DataFrame, tuple[str, ...]]:
        """Run the analysis `sql/analyses/<name>.sql` over its base view's rows under `filters`; return
        its result and the filter dimensions the base view does not carry (left out, as on pages).

        An analysis file names its base view in a `-- reads: VIEW` line and selects from the CTE
        `analysis_rows`, which the engine defines as the base view's rows that pass the filters. A file
        with a `-- keys: COLUMNS` line promises that every other column it returns is a sum, and
        carries the column `cell` of `analysis_rows` through to its grouping: the store then keeps its
        sums per cell of the page filters, and a page's question adds up the cells that pass."""
        analysis = self._analysis(name)
        self.warehouse.require(self.warehouse.reads[analysis.base], f"analysis '{name}'")
        available = self.view_columns(analysis.base)
        if self.scope is not None and "service" not in available:
            raise AccessError(
                f"analysis '{name}' is not broken down by service, so it is not shown to someone "
                "who may see only some services"
            )
        conditions, params, filtered, dropped = self.row_filters(available, filters)
        needed = set(filtered) | ({"fiscal_quarter"} if filters.start or filters.end else set())
        cube = self.store.cube(analysis_key(name), needed) if fast and self.store and analysis.keys else None
        if cube is not None:
            sql = self._summed(cube, analysis.keys, conditions)
        else:
            # Without the store every row is one cell: a summable analysis groups by a constant.
            cell, kept_columns = (", 0 as cell", "* exclude (cell)") if analysis.keys else ("", "*")
            sql = (
                f"with analysis_rows as (\n  select *{cell} from {quote_identifier(analysis.base)}\n"
                f"  {'where ' + ' and '.join(conditions) if conditions else ''}\n)\n"
                f"select {kept_columns} from (\n{analysis.text}\n)"
            )
        if analysis.keys:
            # Grouped sums come back in whatever order DuckDB's threads finish them: put them in key
            # order so the same question gives the same frame, from the store or from the rows.
            sql = f"select * from (\n{sql}\n) order by {', '.join(map(quote_identifier, analysis.keys))}"
        try:
            return self.warehouse.frame(sql, params), dropped
        except duckdb.Error as error:
            raise CxError(
                f"sql/analyses/{name}.sql: the query failed: {str(error).splitlines()[0]}"
            ) from error

    def row_filters(
        self, columns: Iterable[str], filters: Filters
    ) -> tuple[list[str], dict[str, object], tuple[str, ...], tuple[str, ...]]:
        """Return the where-clause conditions and bound parameters that keep the rows of a view with
        `columns` passing `filters`, narrowed to this engine's services; the dimensions filtered on;
        and the filter dimensions the view does not carry (left out, as on pages)."""
        where = self._within(filters.where)
        kept = tuple((d, v) for d, v in where if d in columns and d in DIMENSIONS)
        dropped = tuple(d for d, _ in where if d not in dict(kept))
        start, end = composition.period(filters.start, filters.end)
        conditions, params = composition.conditions(kept, start, end)
        return conditions, params, tuple(d for d, _ in kept), dropped

    def view_columns(self, view: str) -> dict[str, str]:
        """Return the columns (name -> type) of a view of the warehouse, or of the store it serves."""
        return self._describe(f"view {view}", f"select * from {quote_identifier(view)}")

    def published(self, count: float, cell_key: float) -> int:
        """Return a count an analysis summed itself as the pages publish it: perturbed by its cell key
        (the sum of its rows' record keys), the same way as every metric's counts, or true when exact."""
        params: dict[str, object] = {"n": count, "cell_key": cell_key, "exact": self.exact}
        return int(self.warehouse.frame(read_sql(Path("aggregates") / "published_count.sql"), params)["n"][0])

    def analysis_cubes(self) -> tuple[AnalysisCube, ...]:
        """Return what the store keeps of each summable analysis (a `-- keys:` line): its sums per
        cell of the analysis grain, as far as its base view carries the grain's dimensions."""
        found = []
        for path in sorted((SQL_DIR / "analyses").glob("*.sql")):
            analysis = self._analysis(path.stem)
            if not analysis.keys or not self.warehouse.reads[analysis.base] <= self.warehouse.usable_inputs():
                continue
            columns = self._describe(
                f"view {analysis.base}", f"select * from {quote_identifier(analysis.base)}"
            )
            grain = tuple(d for d in ANALYSIS_GRAIN if d in columns)
            cell = ", ".join(f"{quote_identifier(d)} := {quote_identifier(d)}" for d in grain)
            sql = (
                f"with analysis_rows as (\n  select *, struct_pack({cell}) as cell "
                f"from {quote_identifier(analysis.base)}\n)\n"
                f"select unnest(cell), * exclude (cell) from (\n{analysis.text}\n)"
            )
            found.append(AnalysisCube(path.stem, grain, sql))
        return tuple(found)

    def _analysis(self, name: str) -> _Analysis:
        source = f"sql/analyses/{name}.sql"
        text = read_sql(Path("analyses") / f"{name}.sql")
        analysis = parse_analysis(text, source)
        if analysis.base not in self.warehouse.reads:
            raise CxError(f"{source}: '-- reads:' names no known view ({analysis.base!r})")
        return analysis

    def values(self, dimension: str, metric: str | None = None) -> tuple[str, ...]:
        """Return the values a dimension takes in the data, in display order: in one metric's rows, or
        in the groups of every count metric (the volumes of each input) whose rows carry it."""
        found = {
            str(v)
            for result in self.run_many(self.values_asked(dimension, metric))
            for v in result[dimension]
        }
        found.discard("None")
        return tuple(sorted(found, key=lambda v: sort_key(dimension, v)))

    def values_asked(self, dimension: str, metric: str | None = None) -> list[Query]:
        """Return the questions `values` asks, so that a page can ask them with its others (run_many)."""
        return [
            Query.of(self._groups_of(m, dimension).name, by=[dimension])
            for m in self.catalog.metrics.values()
            if (m.name == metric if metric else m.aggregate == "count")
            and not self.unusable(m)
            and dimension in self.dimensions(m)
        ]

    def _groups_of(self, metric: Metric, dimension: str) -> Metric:
        """Return a metric whose groups by `dimension` are `metric`'s, answered from a short cube where
        one can be: which values a metric's rows hold does not depend on its aggregate, and a
        quantile's cube keeps every value (a row per group and value; its finer groupings are left
        out of the store). The median wait's services were read from its cube or rows on each
        filtered overview (37-63 ms at 10M responses), while the mean wait's cube over the same rows
        has them in a few rows. Only a mean's groups are a quantile's: the totals of both keep just the
        rows with a value (sql/aggregates/totals/), where a count's or a share's keep every row."""
        if self.store is None or metric.aggregate not in QUANTILES:
            return metric
        return next(
            (
                other
                for other in self.catalog.metrics.values()
                if other.aggregate == "mean"
                and (other.sql, other.condition) == (metric.sql, metric.condition)
                and self.store.cube(other.name, {dimension}) is not None
            ),
            metric,
        )

    def check_values(self, where: Mapping[str, Sequence[str]]) -> None:
        """Raise QueryError naming the first filter value the data never holds, with the known ones: a
        typo (`channel=Phone` for `phone`) is an error, not an empty answer. Periods are checked apart."""
        for dimension, values in where.items():
            if dimension not in DIMENSIONS or DIMENSIONS[dimension].kind == "time":
                continue
            known = self.values(dimension)
            for value in values:
                if known and value not in known:
                    raise QueryError(
                        f"filter on '{dimension}': unknown value '{value}'; known values: {', '.join(known)}"
                    )

    def empty_metrics(self) -> list[Problem]:
        """Return a warning for each metric whose rows are empty on the data (a filter on a value that
        never occurs, say): it would show "no data" everywhere."""
        usable = [m for m in self.catalog.metrics.values() if not self.unusable(m)]
        results = self.run_many([Query.of(m.name) for m in usable])
        return [
            Problem(source_name(m.path), "returns no rows on the data: check its filters")
            for m, result in zip(usable, results, strict=True)
            if result.height == 1 and not result["n"][0] and not result["suppressed"][0]
        ]

    def check_metrics(self) -> list[Problem]:
        """Return every problem of every metric file: header, SQL that does not bind, missing columns."""
        problems = list(self.catalog.problems)
        for metric in self.catalog.metrics.values():
            source = source_name(metric.path)
            try:
                columns = self.columns(metric)
            except duckdb.Error as error:
                problems.append(Problem(source, f"SQL does not run: {str(error).splitlines()[0]}"))
                continue
            for needed in AGGREGATES[metric.aggregate]:
                if needed not in columns:
                    problems.append(
                        Problem(
                            source, f"aggregate '{metric.aggregate}' needs a column '{needed}' in its rows"
                        )
                    )
            if "fiscal_quarter" not in columns:
                problems.append(
                    Problem(source, "rows carry no fiscal_quarter column, so no period can apply")
                )
            asked = self.catalog.metrics.get(metric.asks or "")
            if asked is not None and (read := self.inputs(asked)) != {"responses"}:
                problems.append(
                    Problem(
                        source,
                        f"header key 'asks': value '{asked.name}' is not a survey item: it reads "
                        f"{', '.join(sorted(read))}, not the survey responses alone",
                    )
                )
        return problems

    def _check_dimensions(self, metric: Metric, query: Query, available: tuple[str, ...]) -> None:
        if len(set(query.by)) != len(query.by):
            raise QueryError("each breakdown dimension may be given once")
        for dimension in [*query.by, *(d for d, _ in query.where)]:
            if dimension not in DIMENSIONS:
                close = _similar(dimension, list(DIMENSIONS))
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise QueryError(f"unknown dimension '{dimension}'{hint} Dimensions: {', '.join(DIMENSIONS)}")
            if dimension not in available:
                raise QueryError(
                    f"metric '{metric.name}' cannot be broken down or filtered by '{dimension}': "
                    f"its rows carry {', '.join(available)}"
                )
        for dimension, values in query.where:
            if not values:
                raise QueryError(f"filter on '{dimension}' has no value")


def settle() -> None:
    """Take the objects alive now out of the garbage collector's full passes, for a process that
    serves an open engine from now on (the dashboard's server once its data is open; the benchmark
    likewise): its modules, catalog and store live as long as it does, and a full pass over them
    (over 100,000 objects, more once the comments' redactor is loaded) took 60-110 ms at 200,000
    responses, landing on whichever page change it fell in (two in 96 of the benchmark's; 2 ms once
    settled). What was frozen before is let go first and the garbage collected, so an engine
    replaced since is freed. At exit they are let go again, for the interpreter's last collection
    to free them (DuckDB's bindings otherwise report its frozen type objects as leaked)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    atexit.unregister(gc.unfreeze)  # registered once, however often settled
    atexit.register(gc.unfreeze)


def _reopened(read: Warehouse) -> Warehouse:
    """Return a fresh, unloaded warehouse over the same inputs and settings as `read`."""
    return Warehouse.unloaded(read.data_dir, read.memory_limit, read.time_zone)


def _scratch(serving: Warehouse, store: Path) -> Warehouse:
    """Return an unloaded warehouse for building `store`: its copy of the inputs goes to a scratch file
    beside the store, within the serving warehouse's memory limit, so a build of any size pages rows
    to disk instead of holding every input in memory (at 10M responses + 10M contacts in memory:
    11.8 GB resident). Where no file can be written there, the copy is held in memory."""
    data_dir, limit, zone = serving.data_dir, serving.memory_limit, serving.time_zone
    scratch = store.with_name(f".{store.stem}.{os.getpid()}.load.duckdb")
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        scratch.unlink(missing_ok=True)
        return Warehouse.unloaded(data_dir, limit, zone, database=scratch)
    except (OSError, duckdb.Error):
        return Warehouse.unloaded(data_dir, limit, zone)


@dataclass(frozen=True)
class _Analysis:
    """An analysis file: its text, the view it reads and, when its sums may be kept, its key columns."""

    text: str
    base: str
    keys: tuple[str, ...]


ANALYSIS_KEYS = ("reads", "keys")
_HEADER_LINE = re.compile(r"^-- ([A-Za-z_]+):(.*)$")


def parse_analysis(text: str, source: str) -> _Analysis:
    """Read an analysis file's header as strictly as a metric's: its leading `-- key: value` lines;
    an unknown, repeated or empty key, or no `reads`, is an error naming the file, line and key."""
    header: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        found = _HEADER_LINE.match(line)
        if not found:
            break  # the header ends at the first line that is not `-- key: value`
        key, value = found.group(1), found.group(2).strip()
        if key not in ANALYSIS_KEYS:
            raise CxError(
                f"{source}: line {number}: unknown header key '{key}'; known keys: {', '.join(ANALYSIS_KEYS)}"
            )
        if key in header:
            raise CxError(f"{source}: line {number}: header key '{key}' is given twice")
        if not value:
            raise CxError(f"{source}: line {number}: header key '{key}' has no value")
        header[key] = value
    if "reads" not in header:
        raise CxError(f"{source}: missing header key 'reads' (the view the analysis reads)")
    keys = tuple(k.strip() for k in header.get("keys", "").split(",") if k.strip())
    return _Analysis(text, header["reads"], keys)


@dataclass(frozen=True)
class _Breakdowns:
    """Queries of metrics of one aggregate under the same filters, each with its own breakdown, each
    metric's together, that one read of each metric's cube table answers (`Engine._run_breakdowns`)."""

    members: list[tuple[Query, Metric, Cube]]


@dataclass(frozen=True)
class _SharedReads:
    """Groups of queries, each group one metric's under the same filters (`Engine._shared_reads`),
    of metrics of one aggregate under the same filters: one statement reads each metric's rows once
    for its group (`Engine._run_shared_reads`)."""

    groups: list[tuple[Query, ...]]


# What `Engine.run_many` hands its workers: breakdowns of one metric, a stack of alike queries of
# several metrics, queries that read their metric's rows once, or a query alone.
_Job = _Breakdowns | list[tuple[Query, Metric, Cube]] | _SharedReads | Query


def _dealt(items: Sequence[T]) -> list[list[T]]:
    """Deal `items` (each a metric's questions, kept whole) in turn to one part per worker, at most one
    part per item."""
    every = min(WORKERS, len(items))
    return [list(items[start::every]) for start in range(every)]


def _renamed(condition: str, names: set[str], prefix: str) -> str:
    """Return a condition with each of its parameters in `names` renamed `prefix` + its name."""
    return re.sub(
        r"\$(\w+)", lambda found: f"${prefix}{found[1]}" if found[1] in names else found[0], condition
    )


def _table_key(table: str) -> str:
    """Return the key a store table's columns are kept under (Engine._describe)."""
    return f"table {table}"


def _table(cube: Cube) -> str:
    return f"{ALIAS}.{quote_identifier(cube.table)}"


def _whole_cells(query: Query, cube: Cube) -> bool:
    """Whether each group of `query` is one cell of the cube's grain with its running counts kept
    (store.RUNNING_ROWS): every dimension of the grain is in the breakdown, filtered to one value, or
    follows from one that is (the year from the quarter, the quarter from the month)."""
    if cube.rows > RUNNING_ROWS:
        return False
    fixed = {*query.by, *(d for d, values in query.where if len(values) == 1)}
    start, end = composition.period(query.start, query.end)
    if start is not None and start == end:
        fixed.add("fiscal_quarter")
    if "month" in fixed:
        fixed.add("fiscal_quarter")
    if "fiscal_quarter" in fixed:
        fixed.add("fiscal_year")
    return cube.dimensions <= fixed


def _done(function: Callable[[T], R], item: T) -> Future[R]:
    """Return `function` of `item`, computed now, as a future: its error is raised by `result`."""
    future: Future[R] = Future()
    try:
        future.set_result(function(item))
    except Exception as error:
        future.set_exception(error)
    return future


def _needed(query: Query) -> set[str]:
    """Return the dimensions a cube must carry to answer `query`: its breakdown, filters and period."""
    needed = {*query.by, *(d for d, _ in query.where)}
    if query.start or query.end:
        needed.add("fiscal_quarter")
    return needed


def _similar(name: str, known: list[str]) -> list[str]:
    """Return up to three known names that start with `name` or look like it."""
    found = [k for k in known if k.startswith(name.lower())] + difflib.get_close_matches(
        name.lower(), known, n=3
    )
    return list(dict.fromkeys(found))[:3]


def _in_display_order(result: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    if not by or result.is_empty():
        return result
    keys = [[sort_key(d, v) for v in result[d].to_list()] for d in by]
    return result[sorted(range(result.height), key=lambda i: [k[i] for k in keys])]


def _parts_in_display_order(
    table: pl.DataFrame, bys: Sequence[tuple[str, ...]], columns: Sequence[tuple[str, ...]] | None = None
) -> pl.DataFrame:
    """Sort a table of parts (`cx_part`: the place of each part's breakdown in `bys`) by part, and
    each part in the display order of its own breakdown, as `_in_display_order` sorts one alone.
    `columns`: where each part's groups are, in the order of its breakdown (its dimensions' own
    columns by default)."""
    depth = max((len(by) for by in bys), default=0)
    if not depth or table.is_empty():
        return table
    columns = columns or bys
    # Each (column, dimension) a part reads its groups from, with each row's rank in that dimension's
    # order (no value takes its own place among the others, before an unknown "Not reported", say).
    # Rows are only compared within their part, so each is ranked among every value of its column.
    # The last line is all 0, for a part with fewer dimensions.
    read = list(
        dict.fromkeys(pair for by, cs in zip(bys, columns, strict=True) for pair in zip(cs, by, strict=True))
    )
    ranks = np.zeros((len(read) + 1, table.height), dtype=np.int64)
    # Each column's distinct values, and each row's place among them: read once per column.
    coded: dict[str, tuple[list[Any], np.ndarray]] = {}
    for column in dict.fromkeys(c for c, _ in read):
        values = table[column].to_list()
        distinct = {v: i for i, v in enumerate(dict.fromkeys(values))}
        coded[column] = (list(distinct), np.array([distinct[v] for v in values], dtype=np.int64))
    for j, (column, dimension) in enumerate(read):
        values, codes = coded[column]
        order = sorted(range(len(values)), key=lambda i: sort_key(dimension, values[i]))
        rank = np.empty(len(values), dtype=np.int64)
        rank[order] = np.arange(len(values))
        ranks[j] = rank[codes]
    parts = table["cx_part"].to_numpy()
    rows = np.arange(table.height)
    keys = []
    for p in range(depth):
        # Each part's line of `ranks` at this place in its breakdown.
        line = [
            read.index((cs[p], by[p])) if len(by) > p else len(read)
            for by, cs in zip(bys, columns, strict=True)
        ]
        keys.append(ranks[np.array(line)[parts], rows])
    # lexsort sorts by its last key first, and keeps the order of rows that tie (as a stable sort).
    return table[np.lexsort([*reversed(keys), parts])]
