"""The metric catalog: one SQL file per metric under sql/metrics/, read with a strict comment header."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metrics import sandbox
from metrics.dimensions import DIMENSIONS
from metrics.errors import Problem
from metrics.formatting import exact_number
from metrics.sqlfiles import METRICS_FOLDER, SQL_DIR, THEMES_FOLDER

METRICS_DIR = SQL_DIR / METRICS_FOLDER

FORMATS = ("percent", "number", "integer", "duration")
VOICE = "Voice of the customer"  # the theme every comment theme (sql/themes/) is listed under
DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")
THEMES = (
    "Trust",
    "Ease",
    "Effectiveness",
    "Emotion",
    "Satisfaction",
    "Transparency",
    "Drivers",
    "Volume",
    "Operations",
    "Digital",
    VOICE,
)
# How the engine turns a metric's rows into a statistic, and the columns each way needs.
AGGREGATES: dict[str, tuple[str, ...]] = {
    "share": ("value",),  # value 1/0 per row, optional weight and score; Wilson interval
    "mean": ("value",),  # value per row, optional weight; normal interval
    "ratio": ("numerator", "denominator"),  # summed separately; Wilson interval
    "count": (),  # sum of weight (1 per row when absent); no interval
    "median": ("value",),  # order-statistic interval
    "p90": ("value",),
}
# Comment themes (sql/themes/): what customers wrote about, as a share of comments.
THEME_PREFIX = "theme_"
THEME_REQUIRED_KEYS = ("label", "description", "owner", "direction")
THEME_OPTIONAL_KEYS = ("target", "min_n")
REQUIRED_KEYS = ("label", "description", "unit", "format", "direction", "theme", "owner", "aggregate")
OPTIONAL_KEYS = ("target", "min_n", "compares", "asks")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_HEADER_LINE = re.compile(r"^--\s?([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Metric:
    """One metric: its header and its SQL body, which returns one row per unit counted."""

    name: str
    label: str
    description: str
    unit: str
    format: str
    direction: str
    theme: str
    owner: str
    aggregate: str
    sql: str
    path: Path
    target: float | None = None
    min_n: int | None = None
    compares: str | None = None  # a dimension whose groups the metric compares: no meaning within one
    # The survey item (a metric of every answer to it) whose answers this one counts some of (trust
    # after a contact: `trust`): where the surveys did not ask that item, this one was not asked either.
    asks: str | None = None
    condition: str | None = None  # a comment theme's condition on a response row (sql/themes/)


@dataclass(frozen=True)
class Catalog:
    """Every metric file that parsed, and a problem for every one that did not."""

    metrics: dict[str, Metric]
    problems: tuple[Problem, ...]


def load_catalog(folder: Path = METRICS_DIR) -> Catalog:
    """Read every `*.sql` file of `folder`, then every comment theme of the `themes` folder beside it
    (sql/themes/ beside sql/metrics/); adding a file adds a metric."""
    metrics: dict[str, Metric] = {}
    problems: list[Problem] = []
    parsed = [parse_metric(p) for p in sorted(folder.glob("*.sql"))]
    parsed += [parse_theme(p) for p in sorted((folder.parent / THEMES_FOLDER).glob("*.sql"))]
    for metric, found in parsed:
        problems += found
        if metric is not None:
            metrics[metric.name] = metric
    # An item asked of is another file's metric: checked once every file is read, and again after a
    # metric is left out, as one may name it.
    while missing := [m for m in metrics.values() if m.asks is not None and m.asks not in metrics]:
        for metric in missing:
            problems.append(
                Problem(
                    source_name(metric.path),
                    f"header key 'asks': value '{metric.asks}' is not a metric of this catalog "
                    f"(no {metric.asks}.sql beside it, or that file is left out)",
                )
            )
            del metrics[metric.name]
    return Catalog(metrics, tuple(problems))


def parse_theme(path: Path) -> tuple[Metric | None, list[Problem]]:
    """Parse one comment theme: a header (label, description, owner, direction; target and min_n
    optional) and a condition on a response row, true when its (redacted) `comment` is about the
    theme. It becomes the metric `theme_<file name>`: the share of comments about it, over the
    responses with a comment, with every dimension, interval and small-cell rule of a metric."""
    read = _read(path, "theme", THEME_REQUIRED_KEYS, THEME_OPTIONAL_KEYS, (("direction", DIRECTIONS),))
    condition = "\n".join(read.lines[read.body_start :]).strip().rstrip(";").strip()
    if not condition:
        read.problem("no condition after the header: the body is a condition on a response's `comment`")
    # The condition starts on the second line of the query, as on line body_start + 1 of the file.
    sql = f"select *, case when (\n{condition}\n) then 1 else 0 end as value\nfrom stg_responses\nwhere comment is not null"
    for violation in sandbox.check(sql, first_line=read.body_start):
        read.problem(str(violation))
    if read.problems:
        return None, read.problems
    metric = Metric(
        name=f"{THEME_PREFIX}{path.stem}",
        label=read.header["label"],
        description=read.header["description"],
        unit="share of comments",
        format="percent",
        direction=read.header["direction"],
        theme=VOICE,
        owner=read.header["owner"],
        aggregate="share",
        sql=sql,
        path=path,
        target=read.target,
        min_n=read.min_n,
        condition=condition,
    )
    return metric, []


def source_name(path: Path) -> str:
    """Return how messages name a metric file: its path from the project root."""
    try:
        return str(path.relative_to(SQL_DIR.parent))
    except ValueError:
        return path.name


def parse_metric(path: Path) -> tuple[Metric | None, list[Problem]]:
    """Parse one metric file; return the metric, or None with every problem found in it."""
    allowed = (
        ("format", FORMATS),
        ("direction", DIRECTIONS),
        ("theme", THEMES),
        ("aggregate", tuple(AGGREGATES)),
    )
    read = _read(path, "metric", REQUIRED_KEYS, OPTIONAL_KEYS, allowed)
    if "compares" in read.header and read.header["compares"] not in DIMENSIONS:
        read.problem(
            f"header key 'compares': value '{read.header['compares']}' is not a dimension ({', '.join(DIMENSIONS)})"
        )
    if "asks" in read.header and read.header["asks"] == path.stem:
        read.problem(
            f"header key 'asks': value '{path.stem}' is this metric: name the item it counts some answers to"
        )
    body = "\n".join(read.lines[read.body_start :])
    sql = body.strip().rstrip(";").strip()
    if not sql:
        read.problem("no SQL after the header: the body is a select returning one row per unit counted")
    for violation in sandbox.check(body, first_line=read.body_start + 1):
        read.problem(str(violation))
    if read.problems:
        return None, read.problems
    metric = Metric(
        name=path.stem,
        label=read.header["label"],
        description=read.header["description"],
        unit=read.header["unit"],
        format=read.header["format"],
        direction=read.header["direction"],
        theme=read.header["theme"],
        owner=read.header["owner"],
        aggregate=read.header["aggregate"],
        sql=sql,
        path=path,
        target=read.target,
        min_n=read.min_n,
        compares=read.header.get("compares"),
        asks=read.header.get("asks"),
    )
    return metric, []


@dataclass
class _Read:
    """A metric or theme file's header, read and checked: what both kinds of file share."""

    source: str
    lines: list[str]
    header: dict[str, str]
    body_start: int  # 0-based index of the body's first line
    problems: list[Problem]
    target: float | None
    min_n: int | None

    def problem(self, message: str) -> None:
        self.problems.append(Problem(self.source, message))


def _read(
    path: Path,
    kind: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    allowed: tuple[tuple[str, tuple[str, ...]], ...],
) -> _Read:
    """Read a metric or theme file's header strictly: its name, keys, the values of `allowed` keys,
    and the optional target and min_n; every problem is kept, named with the file."""
    read = _Read(source_name(path), path.read_text(encoding="utf-8").splitlines(), {}, 0, [], None, None)
    if not _NAME.match(path.stem):
        read.problem(f"file name '{path.stem}' is not a {kind} name: use lowercase letters, digits and _")
    read.header, read.body_start = _header(read.lines, required, optional, read.problem)
    header = read.header
    for key, values in allowed:
        if key in header and header[key] not in values:
            read.problem(f"header key '{key}': value '{header[key]}' is not one of {', '.join(values)}")
    read.target = _number(header.get("target"), "target", float, read.problem)
    read.min_n = _number(header.get("min_n"), "min_n", int, read.problem)
    if read.min_n is not None and read.min_n < 1:
        read.problem(f"header key 'min_n': value {read.min_n} must be 1 or more")
    return read


def _header(
    lines: list[str], required: tuple[str, ...], optional: tuple[str, ...], problem: Callable[[str], None]
) -> tuple[dict[str, str], int]:
    """Read a file's leading `-- key: value` lines strictly; return the header and where the body
    starts (0-based line index). Each unknown, repeated, empty or missing key is a problem."""
    header: dict[str, str] = {}
    seen: set[str] = set()
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            body_start = number
            break
        if not line.startswith("--"):
            body_start = number - 1
            break
        match = _HEADER_LINE.match(line)
        if not match:
            problem(f"line {number}: header lines are `-- key: value`; got {line.strip()!r}")
            continue
        key, value = match.group(1), match.group(2)
        seen.add(key)
        if key not in required + optional:
            problem(
                f"line {number}: unknown header key '{key}'; known keys: {', '.join(required + optional)}"
            )
        elif key in header:
            problem(f"line {number}: header key '{key}' is given twice")
        elif not value:
            problem(f"line {number}: header key '{key}' has no value")
        else:
            header[key] = value
    for key in required:
        if key not in seen:  # a key given with a problem is named by that problem alone
            problem(f"missing header key '{key}'")
    return header, body_start


def _number(text: str | None, key: str, kind: type[int] | type[float], problem: Callable[[str], None]) -> Any:
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        problem(f"header key '{key}': value '{text}' is not a {'whole ' if kind is int else ''}number")
        return None


def catalog_markdown(catalog: Catalog) -> str:
    """Return the catalog as Markdown: docs/METRICS.md is this text, checked by a test."""
    lines = [
        "# Metric catalog",
        "",
        "Generated by `cx metrics --format markdown` from the headers of `sql/metrics/*.sql`; a test keeps",
        "this file in step with them. Every metric can be filtered and broken down by every dimension its",
        "rows carry (`cx dimensions`).",
        "",
        "| metric | label | theme | statistic | unit | direction | target | owner | description |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in catalog.metrics.items():
        target = "" if m.target is None else exact_number(m.target)
        cells = (
            f"`{name}`",
            m.label,
            m.theme,
            m.aggregate,
            m.unit,
            m.direction,
            target,
            m.owner,
            m.description,
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
