"""The DuckDB database: finds the parquet inputs, builds the staging and mart views over them."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from metrics import contract, redaction, storefile
from metrics.errors import CxError, InputError, Problem
from metrics.redaction import redact
from metrics.settings import agency_time_zone
from metrics.sqlfiles import SQL_DIR, quote_identifier, quote_literal, seeds
from metrics.types import polars_type
from metrics.validation import check_columns, reject_rows, shorten

# How many statements a build runs at once, each on a cursor of its own: inputs read and checked,
# models copied into the store (metrics/store.py), metrics' cubes built.
BUILDERS = max(1, min(4, os.cpu_count() or 1))
# Inputs are read, and models copied, BUILDERS at once only while no input has this many rows: one
# of a few hundred thousand rows does not keep two cores busy (writing it into the store is one
# thread), but a larger one does, and two at once then only compete for memory.
TOGETHER_ROWS = 2_000_000
_ENCODING = re.compile(r'value "(.*)" is not valid UTF8')


@dataclass
class InputState:
    """One input as found in the data directory, and what its contract checks said."""

    spec: contract.Input
    source: str  # how messages name it: responses.parquet or responses/
    files: tuple[Path, ...]
    columns: dict[str, str]  # column name -> DuckDB type, as found in the files
    problems: list[Problem] = field(default_factory=list)
    usable: bool = False  # read, with every contract column of a readable type
    rejected: int = 0  # rows left out because they break a value rule (counted in problems)
    redacted: int = 0  # distinct free texts whose personal details were replaced as they were read

    @property
    def found(self) -> bool:
        return bool(self.files)


@dataclass(frozen=True)
class InputCoverage:
    """What one input holds, for the data-sources panel."""

    input: str
    source: str
    files: int
    rows: int
    first_quarter: str | None
    last_quarter: str | None
    services: tuple[str, ...]
    channels: tuple[str, ...]
    modified: datetime | None
    problems: int
    rejected: int  # rows left out for breaking a value rule
    usable: bool


def locate(data_dir: Path, spec: contract.Input) -> tuple[str, tuple[Path, ...]]:
    """Return the input's display name and its parquet files: `<name>.parquet`, the files of a
    `<name>/` folder, or both (imports add files to the folder beside an existing single file)."""
    single = data_dir / f"{spec.name}.parquet"
    folder = data_dir / spec.name
    files = (single,) if single.is_file() else ()
    in_folder = tuple(sorted(folder.rglob("*.parquet"))) if folder.is_dir() else ()
    if files and in_folder:
        return f"{single.name} and {spec.name}/", files + in_folder
    if in_folder or (folder.is_dir() and not files):
        return f"{spec.name}/", in_folder
    return single.name, files


# The name a built store file is attached under (metrics/store.py writes it).
STORE_ALIAS = "cx_store"
# An earlier store a build takes the copies of unchanged inputs from (Warehouse.load).
PREVIOUS_ALIAS = "cx_previous"


class Warehouse:
    """A DuckDB database (in memory unless given a file) with views over one data directory's inputs."""

    def __init__(
        self,
        data_dir: Path,
        sealed: bool = True,
        load: bool = True,
        database: Path | None = None,
        memory_limit: str | None = None,
        time_zone: str | None = None,
    ) -> None:
        """Find the inputs of `data_dir` and, unless `load` is false, copy them in; unless `sealed` is
        false, file access is turned off at once. The engine opens a warehouse unloaded and unsealed
        to serve it from a built store instead (`load_from_store`), or loads it and builds the store:
        then into a scratch `database` file under a `memory_limit` (e.g. "4GB"), so rows that do not
        fit are paged out to disk instead of held in memory. Timestamps with a zone are converted to
        `time_zone` (default: the agency's, metrics/settings.py) as they are copied in."""
        self.data_dir = Path(data_dir)
        self.time_zone = agency_time_zone(time_zone)
        self.sealed = False
        self.loaded = False
        # When the rows served are those of a store built earlier than the input files now on disk
        # (metrics/interim.py): no file is said to have changed later than that store was written.
        self.files_until: float | None = None
        self.database = database
        self.memory_limit = memory_limit
        self._con = duckdb.connect(str(database) if database else ":memory:")
        if memory_limit:
            self._con.execute("set memory_limit = ?", [memory_limit])
        self._define_macros_and_seeds()
        self.inputs = {
            name: InputState(spec, *locate(self.data_dir, spec), {}) for name, spec in contract.INPUTS.items()
        }
        # Which inputs each view reads, so a query on a broken input fails with its problems.
        self.reads: dict[str, frozenset[str]] = {f"raw_{name}": frozenset({name}) for name in self.inputs}
        self.reads.update({seed: frozenset() for seed in seeds()})
        self.models: dict[str, Path] = {}
        if load:
            self.load()
        if sealed:
            self.seal()

    @classmethod
    def unloaded(
        cls,
        data_dir: Path,
        memory_limit: str | None = None,
        time_zone: str | None = None,
        database: Path | None = None,
    ) -> Warehouse:
        """Return a warehouse over `data_dir` with nothing copied in and file access still on: to
        serve from a built store (`load_from_store`), or to load the inputs and build one."""
        return cls(
            data_dir,
            sealed=False,
            load=False,
            database=database,
            memory_limit=memory_limit,
            time_zone=time_zone,
        )

    def _define_macros_and_seeds(self) -> None:
        for macro_file in sorted((SQL_DIR / "macros").glob("*.sql")):
            self._con.execute(macro_file.read_text(encoding="utf-8"))
        for seed in seeds():
            path = SQL_DIR / "seeds" / f"{seed}.csv"
            self._con.execute(
                f"create table {quote_identifier(seed)} as "
                f"select * from read_csv({quote_literal(str(path))}, header = true)"
            )

    def load(
        self,
        previous: Path | None = None,
        unchanged: frozenset[str] = frozenset(),
        progress: Callable[[str], None] | None = None,
        into: str | None = None,
    ) -> None:
        """Copy every input in, checking it against the contract, and define the models over it. The
        `unchanged` inputs are instead read, checked already, from the `previous` store, attached
        (as PREVIOUS_ALIAS) for as long as this warehouse is open. With `into`, an attached database
        (the store being built), the copies are written there, each served by a view of its name.
        While no input is large (TOGETHER_ROWS), BUILDERS are read at once, each on its own cursor."""
        reused = unchanged if previous is not None else frozenset()
        if previous is not None and reused:
            self._con.execute(f"attach {quote_literal(str(previous))} as {PREVIOUS_ALIAS} (read_only)")
            self._inputs_from(PREVIOUS_ALIAS, reused)
        loading = [spec for name, spec in contract.INPUTS.items() if name not in reused]
        # Inputs with comments come last, as the redactor is built beside the others' reading (it
        # takes two seconds; reading one first only made it wait longer, 3.4 s against 1.9 s at
        # 200,000 responses).
        loading.sort(key=lambda spec: any(c.free_text for c in spec.columns))
        if any(c.free_text for spec in loading for c in spec.columns):
            redaction.prepare()

        def read(spec: contract.Input) -> None:
            name, con, started = spec.name, self.cursor(), time.perf_counter()
            self.inputs[name] = self._load_input(spec, con, into)
            if progress:
                rows, rejected = self.row_count(name), self.inputs[name].rejected
                redacted = self.inputs[name].redacted
                progress(
                    f"read and checked {name}: {rows:,} rows"
                    + (f", {rejected:,} rejected" if rejected else "")
                    + (f", personal details redacted from {redacted:,} distinct comments" if redacted else "")
                    + f" ({time.perf_counter() - started:.1f}s)"
                )

        largest = max((self._rows_in(spec) for spec in loading), default=0)
        with ThreadPoolExecutor(BUILDERS if largest < TOGETHER_ROWS else 1) as readers:
            list(readers.map(read, loading))
        self._create_models()
        self.loaded = True

    def load_from_store(self, path: Path, models: bool = True) -> None:
        """Serve the inputs and models from a built store file instead of copying the parquet in: the
        store holds the checked copy of every input, what its checks found, and every model as a
        table, so nothing is read twice and the rows stay on disk. With `models` false, each model is
        computed from the stored inputs whenever it is read, as from a fresh copy of the parquet."""
        if self.sealed:
            raise CxError("the store must be attached before file access is turned off")
        self._con.execute(f"attach {quote_literal(str(path))} as {STORE_ALIAS} (read_only)")
        self._inputs_from(STORE_ALIAS, frozenset(self.inputs))
        self._create_models()
        if models:
            self.read_from(STORE_ALIAS)
        self.loaded = True

    def _inputs_from(self, store: str, names: frozenset[str]) -> None:
        """Serve the inputs `names` from the checked copies in an attached store, with what loading
        each found then (columns, rows rejected, problems)."""
        for name, found in storefile.read_inputs(self._con, store).items():
            if name in names:
                state = self.inputs[name]
                state.columns, state.usable, state.rejected = found.columns, found.usable, found.rejected
                state.problems.extend(found.problems)
        for name in sorted(names):
            raw = quote_identifier("raw_" + name)
            self._con.execute(f"create or replace view {raw} as select * from {store}.{raw}")

    def _create_models(self) -> None:
        for layer in ("staging", "marts"):
            for model_file in in_dependency_order(sorted((SQL_DIR / layer).glob("*.sql"))):
                self._create_view(model_file)

    def read_from(self, database: str | None) -> None:
        """Point every staging and mart view at the table of the same name in an attached database
        (the store), which holds them computed once; None points them back at the parquet."""
        for name, model_file in self.models.items():
            if database is None:
                self._create_view(model_file)
            else:
                self._con.execute(
                    f"create or replace view {quote_identifier(name)} as "
                    f"select * from {quote_identifier(database)}.{quote_identifier(name)}"
                )

    def close(self) -> None:
        """Close the database; a scratch database file is removed."""
        self._con.close()
        if self.database is not None:
            for path in (self.database, self.database.with_name(self.database.name + ".wal")):
                path.unlink(missing_ok=True)
            spill = self.database.with_name(self.database.name + ".tmp")
            if spill.is_dir() and not any(spill.iterdir()):
                spill.rmdir()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """Return a cursor for one thread: DuckDB connections are not shared across threads."""
        return self._con.cursor()

    def frame(self, sql: str, params: dict[str, object] | None = None) -> pl.DataFrame:
        """Run one statement with bound `params` and return its rows as a polars frame.

        A statement run through the DB-API path is prepared once; the relation path (`cursor().sql`)
        binds it and then prepares it again, which doubles the cost of the small queries pages make.
        A result with a column of a type `_polars_type` does not know (a struct, say) is read again
        through Arrow: rare, as the results here are flat."""
        cursor = self.cursor()
        result = cursor.execute(sql, params or {})
        description = result.description or []
        schema = {str(column[0]): polars_type(str(column[1])) for column in description}
        if None in schema.values():
            result.close()
            return pl.DataFrame(pl.from_arrow(self.cursor().sql(sql, params=params or {}).to_arrow_table()))
        return pl.DataFrame(result.fetchall(), schema=schema, orient="row")

    def seed(self, name: str) -> pl.DataFrame:
        """Return a seed table of sql/seeds/ (e.g. `channels`: label and self-service flag per channel)."""
        if name not in seeds():
            raise KeyError(f"no seed '{name}'; seeds: {', '.join(seeds())}")
        return self.frame(f"select * from {quote_identifier(name)}")

    def inputs_read(self, sql: str) -> frozenset[str]:
        """Return the inputs a SQL text reads through the views it names."""
        return inputs_read(sql, self.reads)

    def require(self, inputs: frozenset[str], what: str) -> None:
        """Raise InputError naming the problems of any of `inputs` that is missing or cannot be read.
        An input whose only problems are rows breaking a value rule is served without those rows."""
        broken = sorted(n for n in inputs if not self.inputs[n].usable)
        if broken:
            problems = [p for name in broken for p in self.inputs[name].problems]
            raise InputError(f"{what} reads {', '.join(broken)}, which cannot be used", problems)

    def usable_inputs(self) -> frozenset[str]:
        """Return the inputs that can be served (read and checked, perhaps with rows rejected)."""
        return frozenset(name for name, state in self.inputs.items() if state.usable)

    def check_input(self, name: str) -> list[Problem]:
        """Return every contract problem of one input (checked when it was loaded)."""
        return self.inputs[name].problems

    def check(self) -> list[Problem]:
        """Return every problem of every input."""
        return [p for name in self.inputs for p in self.check_input(name)]

    def coverage(self) -> list[InputCoverage]:
        """Return what each input holds: file, rows, quarters, services, channels, last modified, problems."""
        table = self.frame("select * from input_coverage")
        found = {str(row["input_name"]): row for row in table.iter_rows(named=True)}
        records = []
        for name, state in self.inputs.items():
            row = found.get(name, {})
            modified = max((f.stat().st_mtime for f in state.files), default=None)
            if modified is not None and self.files_until is not None:
                modified = min(modified, self.files_until)
            records.append(
                InputCoverage(
                    input=name,
                    source=state.source,
                    files=len(state.files),
                    rows=int(row.get("row_count") or 0),
                    first_quarter=row.get("first_quarter"),
                    last_quarter=row.get("last_quarter"),
                    services=tuple(row.get("services") or ()),
                    channels=tuple(row.get("channels") or ()),
                    modified=datetime.fromtimestamp(modified) if modified else None,
                    problems=len(state.problems),
                    rejected=state.rejected,
                    usable=state.usable,
                )
            )
        return records

    def row_count(self, name: str) -> int:
        """Return the number of rows an input holds (0 when it is missing or broken)."""
        row = self.cursor().execute(f"select count(*) from {quote_identifier('raw_' + name)}").fetchone()
        return int(row[0]) if row else 0

    def _rows_in(self, spec: contract.Input) -> int:
        """Return the rows an input's files say they hold (0 where they cannot say)."""
        files = locate(self.data_dir, spec)[1]
        if not files:
            return 0
        try:
            row = self._con.execute(
                f"select sum(num_rows) from parquet_file_metadata({_paths(files)})"
            ).fetchone()
        except duckdb.Error:
            return 0  # named when it is read
        return int(row[0] or 0) if row else 0

    def _load_input(
        self, spec: contract.Input, con: duckdb.DuckDBPyConnection, into: str | None = None
    ) -> InputState:
        source, files = locate(self.data_dir, spec)
        state = InputState(spec, source, files, {})
        if not files:
            state.problems.append(
                Problem(
                    source,
                    f"not found: the {spec.name} input is a file {spec.name}.parquet or a folder "
                    f"{spec.name}/ of parquet files in {self.data_dir}",
                )
            )
        else:
            try:
                described = con.execute(f"describe select * from {_scan(files)}").fetchall()
                state.columns = {str(row[0]): str(row[1]) for row in described}
                state.problems += check_columns(source, spec, state.columns)
            except duckdb.Error:
                state.problems += _unreadable(con, files, self.data_dir)
        # The rows are copied in now, not read lazily through a view: once loaded, DuckDB runs with
        # file access off (see seal), and a file damaged past its footer fails here, named.
        name = "raw_" + spec.name
        table = (
            quote_identifier(name) if into is None else f"{quote_identifier(into)}.{quote_identifier(name)}"
        )
        if files and not state.problems:
            try:
                relation = self._relation(con, spec, files, state.columns)
                con.execute(f"create or replace table {table} as {relation}")
            except duckdb.Error as error:
                state.problems += _unreadable(con, files, self.data_dir, scan=True) or [
                    Problem(source, f"cannot be loaded ({str(error).splitlines()[0]})")
                ]
            else:
                # Rows that break a value rule are left out of the table (never out of the file) and
                # counted; every other row is served.
                checked = reject_rows(con, source, spec, name, state.columns, into)
                state.problems += checked.problems
                state.rejected = checked.rejected
                state.redacted = _redact(con, spec, table)
                state.usable = True
        if not state.usable:
            con.execute(f"create or replace table {table} as {empty_relation(spec)}")
        if into is not None:  # read by its name, as every model reads it
            con.execute(f"create or replace view {quote_identifier(name)} as select * from {table}")
        return state

    def seal(self) -> None:
        """Turn file and network access off and lock the configuration, once the inputs are found.

        The inputs are tables by now, so no file needs to stay open. (Views over the parquet files
        with DuckDB's `allowed_paths` would keep reads lazy, but an allowed path is writable too: a
        COPY could overwrite an input.) Nothing can be read, written, attached or loaded after this,
        and no later statement can turn it back on. Metric SQL is also checked before it is
        admitted (metrics/sandbox.py)."""
        self._con.execute("set autoinstall_known_extensions = false")
        self._con.execute("set autoload_known_extensions = false")
        self._con.execute("set enable_external_access = false")
        self._con.execute("set lock_configuration = true")
        self.sealed = True

    def _relation(
        self,
        con: duckdb.DuckDBPyConnection,
        spec: contract.Input,
        files: tuple[Path, ...],
        found: dict[str, str],
    ) -> str:
        """Select the input's files, giving each file that leaves out an optional column its default.

        Reading files together fills a column one file lacks with null, so files are grouped by the
        optional columns they leave out and each group gets its own defaults."""
        optional = [c.name for c in spec.columns if c.optional and c.name in found]
        local = self._local_times(spec, found)
        if not optional or len(files) == 1:
            return f"select *{local}{_defaults(spec, found)} from {_scan(files)}"
        groups: dict[tuple[str, ...], list[Path]] = {}
        for path in files:
            described = con.execute(f"describe select * from {_scan((path,))}").fetchall()
            columns = {str(row[0]) for row in described}
            groups.setdefault(tuple(c for c in optional if c not in columns), []).append(path)
        parts = [
            f"select *{local}{_defaults(spec, found, missing)} from {_scan(tuple(group))}"
            for missing, group in groups.items()
        ]
        return "\nunion all by name\n".join(parts)

    def _local_times(self, spec: contract.Input, found: dict[str, str]) -> str:
        """Return the REPLACE clause that turns each timestamp stored with a zone into the agency's
        local time, which fiscal quarters are read from."""
        zoned = [
            c.name
            for c in spec.columns
            if c.type == "TIMESTAMP" and found.get(c.name, "").upper().startswith("TIMESTAMP WITH TIME ZONE")
        ]
        if not zoned:
            return ""
        zone = quote_literal(self.time_zone)
        return (
            " replace ("
            + ", ".join(f"timezone({zone}, {quote_identifier(c)}) as {quote_identifier(c)}" for c in zoned)
            + ")"
        )

    def _create_view(self, model_file: Path) -> None:
        name = model_file.stem
        sql = model_file.read_text(encoding="utf-8")
        self.reads[name] = self.inputs_read(sql)
        self.models[name] = model_file
        self._con.execute(f"create or replace view {quote_identifier(name)} as {sql}")


def inputs_read(sql: str, reads: dict[str, frozenset[str]]) -> frozenset[str]:
    """Return the inputs a SQL text reads through the views it names, `reads` giving each view's."""
    names = set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))
    return frozenset().union(*(reads[n] for n in names if n in reads))


def _redact(con: duckdb.DuckDBPyConnection, spec: contract.Input, table: str) -> int:
    """Replace the personal details in an input's free-text columns (metrics/redaction.py), each
    distinct text once; return how many distinct texts changed."""
    changed = 0
    for column in (c for c in spec.columns if c.free_text):
        name = quote_identifier(column.name)
        found = [
            str(row[0])
            for row in con.execute(f"select distinct {name} from {table} where {name} is not null").fetchall()
        ]
        pairs = [(raw, clean) for raw, clean in zip(found, redact(found), strict=True) if clean != raw]
        if not pairs:
            continue
        replaced = pl.DataFrame(pairs, schema={"raw": pl.Utf8, "clean": pl.Utf8}, orient="row")
        con.register("cx_redacted", replaced)
        try:
            con.execute(
                f"update {table} as t set {name} = cx_redacted.clean from cx_redacted where t.{name} = cx_redacted.raw"
            )
        finally:
            con.unregister("cx_redacted")
        changed += len(pairs)
    return changed


def _scan(files: tuple[Path, ...]) -> str:
    return f"read_parquet({_paths(files)}, union_by_name = true)"


def _paths(files: tuple[Path, ...]) -> str:
    """Return the files as a SQL list of their paths."""
    return "[{}]".format(", ".join(quote_literal(str(f)) for f in files))


def _defaults(spec: contract.Input, found: dict[str, str], missing_here: tuple[str, ...] = ()) -> str:
    """Select-list additions giving optional columns left out of the files their documented default."""
    missing = [c for c in spec.columns if c.optional and (c.name not in found or c.name in missing_here)]
    return "".join(
        f", {quote_literal(c.default) if c.default is not None else 'null'}::{c.type} as {quote_identifier(c.name)}"
        for c in missing
    )


def empty_relation(spec: contract.Input) -> str:
    """A relation with the input's columns and no rows: what views read when the input is unusable."""
    columns = ", ".join(f"cast(null as {c.type}) as {quote_identifier(c.name)}" for c in spec.columns)
    return f"select {columns} where false"


def _unreadable(
    con: duckdb.DuckDBPyConnection, files: tuple[Path, ...], data_dir: Path, scan: bool = False
) -> list[Problem]:
    """Name each file that cannot be read as parquet: its footer (describe) or, with `scan`, its rows."""
    problems = []
    for path in files:
        read = f"select * from read_parquet({quote_literal(str(path))})"
        try:
            if scan:
                con.execute(f"create or replace temp table unreadable_probe as {read}")
                con.execute("drop table unreadable_probe")
            else:
                con.execute(f"describe {read}").fetchall()
        except duckdb.Error as error:
            reason = str(error).splitlines()[0]
            encoding = _ENCODING.search(reason)
            message = (
                _not_utf8(con, read, shorten(encoding.group(1)) or "")
                if encoding
                else f"cannot be read as parquet ({reason})"
            )
            problems.append(Problem(_display(path, data_dir), message))
    if not problems and not scan:  # each file reads alone: their columns clash
        problems.append(Problem(_display(files[0].parent, data_dir), "files have clashing column types"))
    return problems


def _not_utf8(con: duckdb.DuckDBPyConnection, read: str, example: str) -> str:
    """Say which text column of a file holds bytes that are not UTF-8, trying one column at a time."""
    for name, kind, *_ in con.execute(f"describe {read}").fetchall():
        if str(kind) != "VARCHAR":
            continue
        try:
            con.execute(
                f"create or replace temp table unreadable_probe as select {quote_identifier(name)} from ({read})"
            )
        except duckdb.Error:
            return f"column '{name}' holds text that is not UTF-8 (e.g. {example}); write the file with UTF-8 text"
        finally:
            con.execute("drop table if exists unreadable_probe")
    return f"holds text that is not UTF-8 (e.g. {example}); write the file with UTF-8 text"


def _display(path: Path, data_dir: Path) -> str:
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return str(path)


def in_dependency_order(files: list[Path]) -> list[Path]:
    """Order model files so each comes after the models of the same layer it reads."""
    names = {f.stem: f for f in files}
    ordered: list[Path] = []

    def visit(path: Path, trail: tuple[str, ...]) -> None:
        if path in ordered:
            return
        if path.stem in trail:
            raise ValueError(f"sql models read each other in a circle: {' -> '.join((*trail, path.stem))}")
        text = path.read_text(encoding="utf-8").lower()
        for other in sorted(names):
            if other != path.stem and re.search(rf"\b{other}\b", text):
                visit(names[other], (*trail, path.stem))
        ordered.append(path)

    for path in files:
        visit(path, ())
    return ordered
