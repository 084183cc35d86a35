"""Where are we failing whom: the largest equity gaps of a view, ranked, for the overview.

Each equity group is compared with the people it is one of: everyone in the view, or everyone who
shares one other trait with it (an age band, a channel, a service, a segment, a quarter). Comparing
rural customers aged 65+ with all customers aged 65+ finds what being rural costs at that age, where
comparing them with everyone would mostly find what being 65+ costs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from metrics import contract
from metrics.analyses.breaks import as_asked
from metrics.compare import PROPORTIONS, Difference, GapTests, gap_interval, gap_tests
from metrics.composition import breakdown_keys
from metrics.dimensions import EQUITY_DIMENSIONS, phrase
from metrics.measures import GAP_METRICS
from metrics.query import Engine, Filters, Query
from metrics.significance import ALPHA, holm

# The traits a group is compared within, besides everyone in the view.
CONTEXTS = (*EQUITY_DIMENSIONS, "channel", "service", "segment", "fiscal_quarter")
# A gap smaller than this (in points of a share) is not listed however certain: with a large n, a
# one-point gap is beyond noise and still not news.
DEFAULT_FLOOR = 0.05
LISTED = 8


@dataclass(frozen=True)
class Gap:
    """One equity group against the people it is compared with, on one measure."""

    metric: str
    dimension: str
    group: str
    context: tuple[str, str] | None  # (dimension, value) both sides share; None: everyone in the view
    row: dict[str, Any]  # the group's value, n, ci_low, ci_high
    reference: dict[str, Any]  # the same for the people it is compared with
    difference: Difference  # group minus reference, Holm-adjusted over every comparison made
    interval: tuple[float, float] | None  # 95% interval of the gap

    @property
    def cell(self) -> frozenset[tuple[str, str]]:
        """The people the gap is about: the same people seen from either of their two traits."""
        return frozenset({(self.dimension, self.group), *([self.context] if self.context else [])})


@dataclass(frozen=True)
class Gaps:
    """The gaps of a view beyond noise and at least `floor` wide: worse served, then better served,
    each largest first; `tested` counts every comparison the adjustment covered."""

    below: tuple[Gap, ...]
    above: tuple[Gap, ...]
    tested: int
    floor: float
    metrics: tuple[str, ...]  # the measures compared
    asked: tuple[str, ...]  # the measures the search would compare: those it could not are left out


def gaps(
    engine: Engine, filters: Filters, floor: float = DEFAULT_FLOOR, names: Sequence[str] = GAP_METRICS
) -> Gaps:
    """Return the view's equity gaps of at least `floor` that stay beyond noise after Holm's adjustment
    over every group, context and measure compared. Trust is compared on the scale the view's surveys
    asked it (`as_asked`). A measure whose inputs cannot be used (no contacts file, say) is left out,
    and `Gaps.metrics` says which were compared."""
    asked = as_asked(engine, names, filters)
    names = comparable(engine, asked)
    found, adjusted = search(engine, filters, names)
    kept: dict[tuple[str, frozenset[tuple[str, str]]], Gap] = {}
    place = 0
    # Thousands are compared, a few dozen kept: only those kept become a Gap, with their interval and
    # their adjusted test.
    for measure in found:
        for i, delta in enumerate(measure.tests.delta):
            p = adjusted[place + i]
            if p is None or p >= ALPHA or delta is None or abs(delta) < floor:
                continue
            g = measure.gap(i, replace(measure.tests.difference(i), p=p))
            # The same people seen from either trait (rural among 65+, 65+ among rural): keep the larger.
            key = (g.metric, g.cell)
            if key not in kept or abs(delta) > abs(kept[key].difference.delta or 0):
                kept[key] = g
        place += len(measure.tests.delta)
    ranked = sorted(kept.values(), key=_sure)
    worse = tuple(g for g in ranked if _worse(engine, g))
    better = tuple(g for g in ranked if not _worse(engine, g))
    return Gaps(worse, better, place, floor, names, asked)


def compared(engine: Engine, filters: Filters, names: Sequence[str] = GAP_METRICS) -> list[Gap]:
    """Return every comparison the view's gaps are found among, each with its own (unadjusted) test:
    each equity group against everyone, and against those sharing one trait, on each measure."""
    found, _ = search(engine, filters, comparable(engine, names))
    return [m.gap(i, m.tests.difference(i)) for m in found for i in range(len(m.tests.delta))]


def search(
    engine: Engine, filters: Filters, names: Sequence[str]
) -> tuple[list[_Measure], list[float | None]]:
    """Return every comparison of the measures `names` in a view (`_compared`), and each one's
    p-value adjusted by Holm's method over them all. The engine remembers them: the overview works
    them out ahead of its parts (metrics/analyses/overview.py), and its gaps part then lists them."""

    def searched() -> tuple[list[_Measure], list[float | None]]:
        found = _compared(engine, filters, names)
        return found, holm([p for measure in found for p in measure.tests.p])

    return engine.remembered(("gaps", filters, tuple(names)), searched)


def questions(engine: Engine, filters: Filters, names: Sequence[str] = GAP_METRICS) -> list[Query]:
    """Return every question `gaps` asks of its measures, so that a page can ask them with its others
    (Engine.run_many)."""
    found = comparable(engine, as_asked(engine, names, filters))
    return [query for name in found for query in _plan(engine, name, filters).values()]


def comparable(engine: Engine, names: Sequence[str] = GAP_METRICS) -> tuple[str, ...]:
    """Return the measures of `names` the catalog has and the data can give: those whose inputs cannot
    be used are left out of the search rather than stopping it."""
    return tuple(n for n in names if engine.computable(n))


@dataclass(frozen=True)
class _Measure:
    """Every comparison of one measure in a view, in the order made, as columns: the group's row and
    the reference's (each its place among the answers' rows, one answer after another: `answers`,
    Engine.stacked), and each comparison's test. Who a comparison is about is read from its row when
    asked (`who`): a view makes thousands, and keeps a few dozen."""

    name: str
    aggregate: str
    smallest: int
    answers: pl.DataFrame
    bys: Sequence[tuple[str, ...]]  # each answer's breakdown, by its place (`cx_part`)
    parts: np.ndarray  # each row's answer
    keys: Sequence[np.ndarray]  # each row's groups as text, its first dimension's first
    rows: np.ndarray
    references: np.ndarray
    within_first: np.ndarray  # whether a group of a row of two traits is its second, within its first
    tests: GapTests

    def row(self, place: int) -> dict[str, Any]:
        """Return a row as its answer has it: its groups by their dimension, then its statistics."""
        found = self.answers.row(place, named=True)
        by = self.bys[int(self.parts[place])]
        groups = {d: found[k] for d, k in zip(by, breakdown_keys(len(by)), strict=True)}
        return groups | {c: v for c, v in found.items() if c != "cx_part" and not c.startswith("cx_key")}

    def who(self, i: int) -> tuple[str, str, tuple[str, str] | None]:
        """Return the `i`th comparison's group (its dimension and value), and the trait both sides
        share (None: everyone in the view)."""
        place = int(self.rows[i])
        by = self.bys[int(self.parts[place])]
        key = [str(column[place]) for column in self.keys[: len(by)]]
        if len(by) == 1:
            return by[0], key[0], None
        if self.within_first[i]:
            return by[1], key[1], (by[0], key[0])
        return by[0], key[0], (by[1], key[1])

    def gap(self, i: int, test: Difference) -> Gap:
        """Return the `i`th comparison as a Gap, with `test`."""
        row, reference = self.row(int(self.rows[i])), self.row(int(self.references[i]))
        interval = gap_interval(row, reference, self.aggregate, self.smallest)
        return Gap(self.name, *self.who(i), row, reference, test, interval)


def _compared(engine: Engine, filters: Filters, names: Sequence[str]) -> list[_Measure]:
    """Return every comparison of the measures `names` under the filters, their questions asked at
    once, each measure's tested together."""
    plans = [(name, _plan(engine, name, filters)) for name in names]
    answers = engine.stacked([q for _, plan in plans for q in plan.values()])
    places = answers.get_column("cx_part").to_numpy()
    found, first = [], 0
    for name, plan in plans:
        start, end = np.searchsorted(places, [first, first + len(plan)]).tolist()
        # Each measure's rows with its own statistics, those its answers have (a mean, say, where
        # another measure's have none).
        own = engine.run(plan[()]).columns
        kept = [c for c in answers.columns if c.startswith(("cx_part", "cx_key")) or c in own]
        found.append(
            _measure(
                engine, name, plan, answers.slice(start, end - start).select(kept), places[start:end] - first
            )
        )
        first += len(plan)
    return found


def _sure(found: Gap) -> float:
    """Rank by how wide a gap surely is (its interval's end nearest zero), so a wide gap in a handful
    of people does not lead a list over a slightly narrower one in thousands."""
    low, high = found.interval or (found.difference.delta or 0.0, found.difference.delta or 0.0)
    return -min(abs(low), abs(high))


def _worse(engine: Engine, found: Gap) -> bool:
    delta = found.difference.delta or 0
    return (delta < 0) == (engine.metric(found.metric).direction == "higher_is_better")


def _plan(engine: Engine, name: str, filters: Filters) -> dict[tuple[str, ...], Query]:
    """Return the queries a measure's gaps need, by their grouping: the view, each trait alone and
    each equity dimension with each trait. Worked out once while the engine remembers its results:
    the overview asks them ahead (`questions`), then compares their answers."""
    return engine.remembered(("gap plan", name, filters), lambda: _planned(engine, name, filters))


def _planned(engine: Engine, name: str, filters: Filters) -> dict[tuple[str, ...], Query]:
    carried = set(engine.dimensions(engine.metric(name)))
    single = {d for d, values in filters.where if len(values) == 1}
    contexts = [
        d
        for d in CONTEXTS
        if d in carried and d not in single and not (d == "fiscal_quarter" and filters.start == filters.end)
    ]
    groupings: list[tuple[str, ...]] = [(), *((d,) for d in contexts)]
    equity = [d for d in EQUITY_DIMENSIONS if d in carried]
    for i, dimension in enumerate(equity):
        groupings += [(dimension, other) for other in contexts if other not in equity[: i + 1]]
    return {by: engine.applicable(filters.query(name, by=by))[0] for by in groupings}


def _measure(
    engine: Engine,
    name: str,
    plan: Mapping[tuple[str, ...], Query],
    answers: pl.DataFrame,
    parts: np.ndarray,
) -> _Measure:
    """Compare each equity group with everyone in the view, and with those sharing one trait, and
    test every comparison at once. A view compares thousands: the answers are read as one table
    (`answers`, Engine.stacked: `parts` says which of the plan's questions each row answers), and each
    breakdown's comparisons are made on its columns at once rather than row by row."""
    metric = engine.metric(name)
    bys = list(plan)
    whole = bys.index(())
    depth = np.array([len(by) for by in bys], dtype=np.int64)[parts]
    # Each row's groups as text, a group of no value read "None"; a row of people who did not say
    # (any of its groups "Not reported") is no group to rank.
    keys = []
    for key in breakdown_keys(max(len(by) for by in bys)):
        column = answers.get_column(key).to_numpy().astype(object)
        column[column == None] = "None"  # noqa: E711 (numpy compares each element)
        keys.append(column)
    said = np.ones(answers.height, dtype=bool)
    for place, column in enumerate(keys):
        said &= (depth <= place) | (column != contract.NOT_REPORTED)
    # No count reads as NaN, equal to none; so does place -1, no row (the last, added).
    n = np.append(answers.get_column("n").cast(pl.Float64).to_numpy(), np.nan)
    value = answers.get_column("value").cast(pl.Float64).to_numpy()
    hidden = answers.get_column("suppressed").fill_null(False).to_numpy()
    # The rows shown, of people who said: the groups to rank.
    shown = ~hidden & answers.get_column("value").is_not_null().to_numpy() & said
    starts = np.searchsorted(parts, np.arange(len(bys) + 1))
    overall = int(starts[whole]) if starts[whole + 1] > starts[whole] else -1
    first = np.array([by[0] if by else "" for by in bys], dtype=object)[parts]
    second = np.array([by[1] if len(by) > 1 else "" for by in bys], dtype=object)[parts]
    # Each trait's groups alone, shown: where a group of one trait is found, by trait and group.
    alone = np.flatnonzero((depth == 1) & shown)
    found = {(d, k): int(i) for d, k, i in zip(first[alone], keys[0][alone], alone, strict=True)}

    def everyone(rows: np.ndarray, of: np.ndarray | int) -> np.ndarray:
        """Whether `rows` are all the people of `of` (the same count: they are drawn from them)."""
        found: np.ndarray = (rows >= 0) & (np.asarray(of) >= 0) & (n[rows] == n[of])
        return found

    equity = {d: i for i, d in enumerate(EQUITY_DIMENSIONS)}
    # Each equity group against everyone, trait by trait in their order, each trait's groups as shown.
    singles = sorted((i for i in alone.tolist() if first[i] in equity), key=lambda i: (equity[first[i]], i))
    # Each shown row of two traits is compared within its second trait, then (where that is an
    # equity dimension too) its second within its first, as listed.
    pairs = np.flatnonzero((depth == 2) & shown)
    context = [found.get((d, k), -1) for d, k in zip(second[pairs], keys[1][pairs], strict=True)]
    own = [
        found.get((d, k), -1) if e in equity else -1
        for d, k, e in zip(first[pairs], keys[0][pairs], second[pairs], strict=True)
    ]
    row_places = np.concatenate([np.array(singles, dtype=np.int64), np.repeat(pairs, 2)])
    reference_places = np.concatenate(
        [
            np.full(len(singles), overall, dtype=np.int64),
            np.stack([np.array(context, dtype=np.int64), np.array(own, dtype=np.int64)], axis=1).ravel(),
        ]
    )
    single = np.arange(len(row_places)) < len(singles)
    within_first = np.concatenate([np.zeros(len(singles), dtype=bool), np.tile([False, True], len(pairs))])
    kept = (
        (reference_places >= 0)
        # A trait everyone in the view shares (the only channel there is) adds nothing to the view.
        & (single | ~everyone(reference_places, overall))
        # A group that is everyone it would be compared with has no one to differ from.
        & ~everyone(row_places, reference_places)
    )
    row_places, reference_places = row_places[kept], reference_places[kept]
    # The tests read counts and shares as arrays, and a mean's or a quantile's its interval too.
    arrays = {"value": value, "n": n[:-1], "suppressed": hidden}
    intervals = {}
    if metric.aggregate not in PROPORTIONS:
        intervals = {
            c: answers.get_column(c).to_list() for c in ("ci_low", "ci_high") if c in answers.columns
        }
    cells: list[dict[str, Any]] = []
    for places in (row_places, reference_places):
        cell: dict[str, Any] = {c: values[places] for c, values in arrays.items()}
        if metric.aggregate not in PROPORTIONS:
            cell.update({c: [v[i] for i in places.tolist()] for c, v in intervals.items()})
        cells.append(cell)
    smallest = engine.threshold(metric)
    tests = gap_tests(cells[0], cells[1], metric.aggregate, smallest)
    return _Measure(
        name, metric.aggregate, smallest, answers, bys, parts, keys, row_places, reference_places,
        within_first[kept], tests,
    )  # fmt: skip


def who(found: Gap, labels: Mapping[str, str]) -> str:
    """Return the people a gap is about, in words: "customers aged 65+ in rural areas". `labels`
    gives channels' people-facing names."""
    parts = [(found.dimension, found.group), *([found.context] if found.context else [])]
    return "customers " + " ".join(phrase(d, v, labels.get(v) if d == "channel" else None) for d, v in parts)


def compared_with(found: Gap, labels: Mapping[str, str]) -> str:
    """Return the people a group is compared with, in words: "all customers in rural areas"."""
    if found.context is None:
        return "everyone in the view"
    dimension, value = found.context
    return "all customers " + phrase(dimension, value, labels.get(value) if dimension == "channel" else None)
