"""Customer outcomes, one strict TOML file each in config/outcomes/: a customer type (a segment), the
outcome in their words, an owner, the measures that show progress (each with a target and the quarter
to reach it by) and optionally an equity objective (the widest gap between the groups of a dimension
on one measure, at most so many points by a quarter). Every problem is named with its file and key;
a bad file is left out and the others are read."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from metrics.catalog import Metric
from metrics.dimensions import DIMENSIONS
from metrics.errors import Problem
from metrics.fiscal import FiscalQuarter
from metrics.sqlfiles import SQL_DIR

OUTCOMES_DIR = SQL_DIR.parent / "config" / "outcomes"
_KEYS = {"customer", "statement", "owner", "service", "channels", "measure", "equity"}
_REQUIRED = ("customer", "statement", "owner", "measure")
_MEASURE_KEYS = {"metric", "target", "by"}
_EQUITY_KEYS = {"metric", "dimension", "max_gap", "by"}
# The dimensions an equity objective may compare the groups of: the equity dimensions and segments'
# own groupings are not among them, as the outcome is about one segment already.
EQUITY_OBJECTIVE_DIMENSIONS = tuple(d.name for d in DIMENSIONS.values() if d.kind == "equity")


@dataclass(frozen=True)
class Measure:
    """A measure of progress: a metric, its target and the fiscal quarter to reach it by."""

    metric: str
    target: float
    by: str


@dataclass(frozen=True)
class EquityObjective:
    """The widest gap between the groups of `dimension` on `metric` is at most `max_gap` by `by`."""

    metric: str
    dimension: str
    max_gap: float
    by: str


@dataclass(frozen=True)
class Outcome:
    """One customer outcome, read from `path` (its name is the file's)."""

    name: str
    customer: str  # a customer segment
    statement: str
    owner: str
    measures: tuple[Measure, ...]
    path: Path
    service: str | None = None
    channels: tuple[str, ...] = ()
    equity: EquityObjective | None = None

    @property
    def where(self) -> dict[str, tuple[str, ...]]:
        """The filters the outcome's numbers are read under: its segment, service and channels."""
        found: dict[str, tuple[str, ...]] = {"segment": (self.customer,)}
        if self.service:
            found["service"] = (self.service,)
        if self.channels:
            found["channel"] = self.channels
        return found


def load_outcomes(
    metrics: Mapping[str, Metric], folder: Path = OUTCOMES_DIR
) -> tuple[tuple[Outcome, ...], tuple[Problem, ...]]:
    """Read every `*.toml` of `folder` (none when it does not exist), checking metric names against
    the catalog's `metrics`; return the outcomes that read and a problem for every one that did not."""
    found, problems = [], []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        outcome, wrong = _outcome(path, metrics)
        problems += wrong
        if outcome is not None:
            found.append(outcome)
    return tuple(found), tuple(problems)


def _outcome(path: Path, metrics: Mapping[str, Metric]) -> tuple[Outcome | None, list[Problem]]:
    source = _source(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return None, [Problem(source, f"cannot be read as an outcome: {error}")]
    problems: list[str] = []
    problems += [
        f"unknown key '{k}'; known keys: {', '.join(sorted(_KEYS))}" for k in sorted(set(raw) - _KEYS)
    ]
    problems += [f"missing key '{k}'" for k in _REQUIRED if k not in raw]
    for key in ("customer", "statement", "owner", "service"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            problems.append(f"key '{key}' must be a text that is not empty")
    channels = raw.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
        problems.append("key 'channels' must be a list of channel names, e.g. [\"website\"]")
        channels = []
    entries = raw.get("measure", [])
    if "measure" in raw and (not isinstance(entries, list) or not entries):
        problems.append("key 'measure' must be one or more [[measure]] tables")
        entries = []
    measures = []
    for number, entry in enumerate(entries, start=1):
        measure = _measure(entry, f"measure {number}", metrics, problems)
        if measure is not None:
            measures.append(measure)
    equity = _equity(raw["equity"], metrics, problems) if "equity" in raw else None
    if problems:
        return None, [Problem(source, p) for p in problems]
    return (
        Outcome(
            name=path.stem,
            customer=raw["customer"].strip(),
            statement=" ".join(raw["statement"].split()),
            owner=raw["owner"].strip(),
            measures=tuple(measures),
            path=path,
            service=raw.get("service"),
            channels=tuple(channels),
            equity=equity,
        ),
        [],
    )


def _measure(entry: object, where: str, metrics: Mapping[str, Metric], problems: list[str]) -> Measure | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a table with metric, target and by")
        return None
    checked = _checked(entry, where, _MEASURE_KEYS, metrics, problems)
    target = _number(entry, "target", where, problems)
    if checked is None or target is None:
        return None
    metric, by = checked
    if metrics[metric].format == "percent" and not 0 <= target <= 1:
        problems.append(
            f"{where}: target {target} is a share of {metric}: give it between 0 and 1 (0.8 is 80%)"
        )
        return None
    return Measure(metric, target, by)


def _equity(entry: object, metrics: Mapping[str, Metric], problems: list[str]) -> EquityObjective | None:
    where = "equity"
    if not isinstance(entry, dict):
        problems.append("equity: must be a table with metric, dimension, max_gap and by")
        return None
    checked = _checked(entry, where, _EQUITY_KEYS, metrics, problems)
    max_gap = _number(entry, "max_gap", where, problems)
    dimension = entry.get("dimension")
    if dimension not in EQUITY_OBJECTIVE_DIMENSIONS:
        problems.append(
            f"equity: dimension {dimension!r} is not an equity dimension ({', '.join(EQUITY_OBJECTIVE_DIMENSIONS)})"
        )
        return None
    if max_gap is not None and max_gap < 0:
        problems.append(f"equity: max_gap {max_gap} must be 0 or more (0.05 is 5 points)")
        return None
    if checked is None or max_gap is None:
        return None
    return EquityObjective(checked[0], str(dimension), max_gap, checked[1])


def _checked(
    entry: dict[str, object], where: str, keys: set[str], metrics: Mapping[str, Metric], problems: list[str]
) -> tuple[str, str] | None:
    """Check a table's keys, its metric and its `by` quarter; return (metric, quarter label)."""
    before = len(problems)
    problems += [
        f"{where}: unknown key '{k}'; known keys: {', '.join(sorted(keys))}"
        for k in sorted(set(entry) - keys)
    ]
    problems += [f"{where}: missing key '{k}'" for k in sorted(keys) if k not in entry]
    metric, by = entry.get("metric"), entry.get("by")
    if "metric" in entry and metric not in metrics:
        problems.append(f"{where}: metric {metric!r} is not in the catalog (`cx metrics` lists them)")
    elif "metric" in entry and metrics[str(metric)].direction == "neutral" and "target" in keys:
        problems.append(
            f"{where}: metric {metric!r} is neutral (neither higher nor lower is better): it takes no target"
        )
    label = None
    if "by" in entry:
        try:
            label = FiscalQuarter.parse(str(by)).label
        except ValueError:
            problems.append(f'{where}: by {by!r} is not a fiscal quarter like "FY2026 Q4"')
    if len(problems) > before or label is None:
        return None
    return str(metric), label


def _number(entry: dict[str, object], key: str, where: str, problems: list[str]) -> float | None:
    value = entry.get(key)
    if key not in entry:
        return None  # named as missing by _checked
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{where}: {key} {value!r} is not a number")
        return None
    return float(value)


def _source(path: Path) -> str:
    try:
        return str(path.relative_to(SQL_DIR.parent))
    except ValueError:
        return path.name
