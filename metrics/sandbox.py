"""The metric SQL sandbox: a metric body may be one read-only select over the warehouse's views.

Analysts write metric files and anyone may add one, so the catalog admits a body only when it parses
(sqlglot, DuckDB dialect) as a single query whose tables are models, seeds, raw inputs or its own
CTEs, and which calls no function that reads files, runs other SQL or reads the environment. DuckDB
itself runs with external access off and its configuration locked once the inputs are loaded
(`Warehouse.lock_down`), so a body that slipped past this check still could not touch a file."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from metrics import contract
from metrics.sqlfiles import SQL_DIR, seeds

# Table functions a metric may call: they make rows from arguments, never from files.
_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
# Scalar functions that read files, run SQL given as text, or read the server's settings and
# environment. Table functions are refused unless listed above, so only scalar ones need naming.
_FORBIDDEN_FUNCTIONS = frozenset(
    {"getenv", "current_setting", "query", "query_table", "read_text", "read_blob", "glob", "sniff_csv"}
)
_FORBIDDEN_PREFIXES = ("read_", "parquet_", "duckdb_", "pragma_", "sqlite_", "postgres_", "mysql_")
# Statements nested inside a query (DuckDB has none today; a later sqlglot or DuckDB might parse one).
_STATEMENTS: dict[type[exp.Expression], str] = {
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Create: "CREATE",
    exp.Drop: "DROP",
    exp.Copy: "COPY",
    exp.Attach: "ATTACH",
    exp.Pragma: "PRAGMA",
    exp.Set: "SET",
    exp.Command: "COMMAND",
}


@dataclass(frozen=True)
class Violation:
    """One thing a metric body may not do, and the line of the file it is on."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@cache
def readable_tables() -> frozenset[str]:
    """Return the names a metric may read: the models of sql/staging and sql/marts, the seeds and the
    raw inputs (the views the warehouse builds under those names)."""
    models = {p.stem for layer in ("staging", "marts") for p in (SQL_DIR / layer).glob("*.sql")}
    tables = set(seeds())
    raw = {f"raw_{name}" for name in contract.INPUTS}
    return frozenset(models | tables | raw)


def check(sql: str, first_line: int = 1) -> list[Violation]:
    """Return what keeps `sql` (a metric body starting on line `first_line` of its file) out of the
    catalog; an empty list means it is one read-only select over known views."""
    lines = sql.splitlines()

    def at(pattern: str) -> int:
        """Return the file line of the first match of `pattern` in the body (its first line if none)."""
        regex = re.compile(pattern, re.IGNORECASE)
        for number, text in enumerate(lines):
            if regex.search(_without_comment(text)):
                return first_line + number
        return first_line

    keyword = _leading_keyword(lines)
    if not keyword:
        return []  # an empty body is the catalog's own problem ("no SQL after the header")
    if keyword not in ("select", "with", "from", "values", "("):
        return [
            Violation(
                at(rf"\b{re.escape(keyword)}"),
                f"{keyword.upper()} is not allowed: a metric is a single read-only select",
            )
        ]
    try:
        # sqlglot warns on syntax it only half-knows; the violations below say all there is to say.
        logging.getLogger("sqlglot").setLevel(logging.ERROR)
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, TokenError) as error:
        line = _error_line(error)
        return [
            Violation(first_line + line - 1 if line else first_line, f"SQL cannot be parsed: {_first(error)}")
        ]
    if len(statements) != 1:
        second = _statement_start(lines, 2)
        return [
            Violation(
                first_line + second,
                f"the body holds {len(statements)} statements; a metric is a single select",
            )
        ]
    (tree,) = statements
    if not isinstance(tree, exp.Query):
        keyword = _leading_keyword(lines)
        return [
            Violation(
                at(rf"\b{keyword}\b"),
                f"{keyword.upper()} is not allowed: a metric is a single read-only select",
            )
        ]
    violations: list[Violation] = []
    for kind, word in _STATEMENTS.items():
        if tree.find(kind) is not None:
            violations.append(Violation(at(rf"\b{word}\b"), f"{word} is not allowed: a metric only reads"))
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    known = readable_tables() | ctes
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            continue  # a table function, checked below with every function
        name = table.name.lower()
        if table.args.get("db") or table.args.get("catalog"):
            qualified = ".".join(p.name for p in table.parts)
            violations.append(
                Violation(
                    at(re.escape(table.name)),
                    f"reads '{qualified}': a metric reads the warehouse's views by name",
                )
            )
        elif name not in known:
            violations.append(
                Violation(
                    at(re.escape(table.name)),
                    f"reads '{table.name}', which is not a model, seed or input view "
                    f"(readable: {', '.join(sorted(readable_tables()))})",
                )
            )
    for function in tree.find_all(exp.Func):
        called = _function_name(function)
        if called is None:
            continue
        name = called
        is_table = isinstance(function.parent, exp.Table) and function.parent.this is function
        if (is_table and name not in _TABLE_FUNCTIONS) or _forbidden(name):
            violations.append(
                Violation(
                    at(rf"\b{re.escape(name)}\s*\("),
                    f"calls {name}(), which is not allowed: a metric reads the warehouse's views, not files, "
                    "settings or other SQL",
                )
            )
    return sorted(set(violations), key=lambda v: (v.line, v.message))


def _leading_keyword(lines: list[str]) -> str:
    """Return the body's first word, lowercased, skipping comments: what kind of statement it is."""
    for text in lines:
        code = _without_comment(text).strip()
        if code:
            match = re.match(r"\(|[A-Za-z_]+", code)
            return match.group(0).lower() if match else code[:1]
    return ""


def _forbidden(name: str) -> bool:
    return name in _FORBIDDEN_FUNCTIONS or name.startswith(_FORBIDDEN_PREFIXES) or name.endswith("_scan")


def _function_name(function: exp.Func) -> str | None:
    """Return a function call's name as written, lowercased, for functions sqlglot knows and does not."""
    if isinstance(function, exp.Anonymous):
        return str(function.name).lower()
    names = function.sql_names()
    # sqlglot maps many DuckDB functions to its own classes (ReadCSV, ReadParquet...); their DuckDB
    # spelling is among the class's names.
    return names[0].lower() if names else None


def _without_comment(text: str) -> str:
    return text.split("--", 1)[0]


def _statement_start(lines: list[str], which: int) -> int:
    """Return the 0-based body line where statement number `which` starts (after a `;`)."""
    seen = 1
    for number, text in enumerate(lines):
        code = _without_comment(text)
        if ";" in code:
            seen += code.count(";")
            rest = code.split(";")[-1].strip()
            if seen >= which:
                return number if rest else min(number + 1, len(lines) - 1)
    return 0


def _error_line(error: ParseError | TokenError) -> int | None:
    errors = getattr(error, "errors", None) or []
    line = errors[0].get("line") if errors else None
    return int(line) if isinstance(line, int) else None


def _first(error: Exception) -> str:
    return str(error).splitlines()[0][:200]
