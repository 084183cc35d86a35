"""The DuckDB database: finds the parquet inputs, builds the staging and mart views over them."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from metrics import contract
from metrics.errors import InputError, Problem
from metrics.sqlfiles import SQL_DIR, quote_identifier, quote_literal
from metrics.validation import check_columns, check_values

_SEEDS = ("channels",)


@dataclass
class InputState:
    """One input as found in the data directory, and what its contract checks said."""

    spec: contract.Input
    source: str  # how messages name it: responses.parquet or responses/
    files: tuple[Path, ...]
    columns: dict[str, str]  # column name -> DuckDB type, as found in the files
    problems: list[Problem] = field(default_factory=list)
    values_checked: bool = False

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


class Warehouse:
    """An in-memory DuckDB database with views over one data directory's inputs."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._con = duckdb.connect(":memory:")
        self._lock = threading.Lock()
        for macro_file in sorted((SQL_DIR / "macros").glob("*.sql")):
            self._con.execute(macro_file.read_text(encoding="utf-8"))
        for seed in _SEEDS:
            path = SQL_DIR / "seeds" / f"{seed}.csv"
            self._con.execute(
                f"create table {quote_identifier(seed)} as "
                f"select * from read_csv({quote_literal(str(path))}, header = true)"
            )
        self.inputs = {name: self._load_input(spec) for name, spec in contract.INPUTS.items()}
        # Which inputs each view reads, so a query on a broken input fails with its problems.
        self.reads: dict[str, frozenset[str]] = {f"raw_{name}": frozenset({name}) for name in self.inputs}
        self.reads.update({seed: frozenset() for seed in _SEEDS})
        self.models: dict[str, Path] = {}
        for layer in ("staging", "marts"):
            for model_file in _in_dependency_order(sorted((SQL_DIR / layer).glob("*.sql"))):
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

    def attach(self, path: Path, alias: str, problems: dict[str, tuple[Problem, ...]]) -> None:
        """Read the models from a built store file, whose build also ran the inputs' value checks."""
        self._con.execute(f"attach {quote_literal(str(path))} as {quote_identifier(alias)} (read_only)")
        self.read_from(alias)
        with self._lock:
            for name, state in self.inputs.items():
                state.problems = list(problems.get(name, ()))
                state.values_checked = True

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """Return a cursor for one thread: DuckDB connections are not shared across threads."""
        return self._con.cursor()

    def seed(self, name: str) -> pl.DataFrame:
        """Return a seed table of sql/seeds/ (e.g. `channels`: label and self-service flag per channel)."""
        if name not in _SEEDS:
            raise KeyError(f"no seed '{name}'; seeds: {', '.join(_SEEDS)}")
        return pl.DataFrame(pl.from_arrow(self.cursor().table(name).to_arrow_table()))

    def inputs_read(self, sql: str) -> frozenset[str]:
        """Return the inputs a SQL text reads through the views it names."""
        names = set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))
        return frozenset().union(*(self.reads[n] for n in names if n in self.reads))

    def require(self, inputs: frozenset[str], what: str) -> None:
        """Raise InputError naming the problems of any of `inputs` that is missing or broken."""
        problems = [p for name in sorted(inputs) for p in self.check_input(name)]
        if problems:
            broken = ", ".join(sorted({n for n in inputs if self.inputs[n].problems}))
            raise InputError(f"{what} reads {broken}, which cannot be used", problems)

    def check_input(self, name: str) -> list[Problem]:
        """Return every contract problem of one input, running the value checks once."""
        state = self.inputs[name]
        with self._lock:
            if not state.values_checked and not state.problems:
                state.problems = check_values(
                    self._con.cursor(), state.source, state.spec, f"raw_{name}", state.columns
                )
            state.values_checked = True
        return state.problems

    def check(self) -> list[Problem]:
        """Return every problem of every input."""
        return [p for name in self.inputs for p in self.check_input(name)]

    def coverage(self) -> list[InputCoverage]:
        """Return what each input holds: file, rows, quarters, services, channels, last modified, problems."""
        table = self.cursor().sql("select * from input_coverage").to_arrow_table()
        found = {str(row["input_name"]): row for row in table.to_pylist()}
        records = []
        for name, state in self.inputs.items():
            row = found.get(name, {})
            modified = max((f.stat().st_mtime for f in state.files), default=None)
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
                    problems=len(self.check_input(name)),
                )
            )
        return records

    def row_count(self, name: str) -> int:
        """Return the number of rows an input holds (0 when it is missing or broken)."""
        row = self.cursor().execute(f"select count(*) from {quote_identifier('raw_' + name)}").fetchone()
        return int(row[0]) if row else 0

    def _load_input(self, spec: contract.Input) -> InputState:
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
                described = self._con.execute(f"describe select * from {_scan(files)}").fetchall()
                state.columns = {str(row[0]): str(row[1]) for row in described}
                state.problems += check_columns(source, spec, state.columns)
            except duckdb.Error:
                state.problems += _unreadable(self._con, files, self.data_dir)
        usable = files and not state.problems
        relation = self._relation(spec, files, state.columns) if usable else _empty_relation(spec)
        self._con.execute(f"create or replace view {quote_identifier('raw_' + spec.name)} as {relation}")
        return state

    def _relation(self, spec: contract.Input, files: tuple[Path, ...], found: dict[str, str]) -> str:
        """Select the input's files, giving each file that leaves out an optional column its default.

        Reading files together fills a column one file lacks with null, so files are grouped by the
        optional columns they leave out and each group gets its own defaults."""
        optional = [c.name for c in spec.columns if c.optional and c.name in found]
        if not optional or len(files) == 1:
            return f"select *{_defaults(spec, found)} from {_scan(files)}"
        groups: dict[tuple[str, ...], list[Path]] = {}
        for path in files:
            described = self._con.execute(f"describe select * from {_scan((path,))}").fetchall()
            columns = {str(row[0]) for row in described}
            groups.setdefault(tuple(c for c in optional if c not in columns), []).append(path)
        parts = [
            f"select *{_defaults(spec, found, missing)} from {_scan(tuple(group))}"
            for missing, group in groups.items()
        ]
        return "\nunion all by name\n".join(parts)

    def _create_view(self, model_file: Path) -> None:
        name = model_file.stem
        sql = model_file.read_text(encoding="utf-8")
        self.reads[name] = self.inputs_read(sql)
        self.models[name] = model_file
        self._con.execute(f"create or replace view {quote_identifier(name)} as {sql}")


def _scan(files: tuple[Path, ...]) -> str:
    return "read_parquet([{}], union_by_name = true)".format(", ".join(quote_literal(str(f)) for f in files))


def _defaults(spec: contract.Input, found: dict[str, str], missing_here: tuple[str, ...] = ()) -> str:
    """Select-list additions giving optional columns left out of the files their documented default."""
    missing = [c for c in spec.columns if c.optional and (c.name not in found or c.name in missing_here)]
    return "".join(
        f", {quote_literal(c.default) if c.default is not None else 'null'}::{c.type} as {quote_identifier(c.name)}"
        for c in missing
    )


def _empty_relation(spec: contract.Input) -> str:
    """A relation with the input's columns and no rows: what views read when the input is unusable."""
    columns = ", ".join(f"cast(null as {c.type}) as {quote_identifier(c.name)}" for c in spec.columns)
    return f"select {columns} where false"


def _unreadable(con: duckdb.DuckDBPyConnection, files: tuple[Path, ...], data_dir: Path) -> list[Problem]:
    """Name each file that cannot be read as parquet."""
    problems = []
    for path in files:
        try:
            con.execute(f"describe select * from read_parquet({quote_literal(str(path))})").fetchall()
        except duckdb.Error as error:
            reason = str(error).splitlines()[0]
            problems.append(Problem(_display(path, data_dir), f"cannot be read as parquet ({reason})"))
    if not problems:  # each file reads alone: their columns clash
        problems.append(Problem(_display(files[0].parent, data_dir), "files have clashing column types"))
    return problems


def _display(path: Path, data_dir: Path) -> str:
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return str(path)


def _in_dependency_order(files: list[Path]) -> list[Path]:
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
