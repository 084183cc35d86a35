"""Where are we failing whom: the largest equity gaps of a view, ranked, for the overview.

Each equity group is compared with the people it is one of: everyone in the view, or everyone who
shares one other trait with it (an age band, a channel, a service, a segment, a quarter). Comparing
rural customers aged 65+ with all customers aged 65+ finds what being rural costs at that age, where
comparing them with everyone would mostly find what being 65+ costs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from metrics import contract
from metrics.compare import NONE, Difference, gap_interval, gaps_of
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
    metrics: tuple[str, ...]


def gaps(
    engine: Engine, filters: Filters, floor: float = DEFAULT_FLOOR, names: Sequence[str] = GAP_METRICS
) -> Gaps:
    """Return the view's equity gaps of at least `floor` that stay beyond noise after Holm's adjustment
    over every group, context and measure compared."""
    names = tuple(n for n in names if n in engine.catalog.metrics)
    found = list(_candidates(engine, filters, names))
    tests = _tested(found)
    kept: dict[tuple[str, frozenset[tuple[str, str]]], Gap] = {}
    # Thousands are compared, a few dozen kept: only those kept become a Gap, with their interval and
    # their adjusted test.
    for candidate, test, p in zip(found, tests, holm([t.p for t in tests]), strict=True):
        delta = test.delta
        if p is None or p >= ALPHA or delta is None or abs(delta) < floor:
            continue
        g = _gap(*candidate, replace(test, p=p))
        # The same people seen from either trait (rural among 65+, 65+ among rural): keep the larger.
        key = (g.metric, g.cell)
        if key not in kept or abs(delta) > abs(kept[key].difference.delta or 0):
            kept[key] = g
    ranked = sorted(kept.values(), key=_sure)
    worse = tuple(g for g in ranked if _worse(engine, g))
    better = tuple(g for g in ranked if not _worse(engine, g))
    return Gaps(worse, better, len(found), floor, names)


def compared(engine: Engine, filters: Filters, names: Sequence[str] = GAP_METRICS) -> list[Gap]:
    """Return every comparison the view's gaps are found among, each with its own (unadjusted) test:
    each equity group against everyone, and against those sharing one trait, on each measure."""
    found = list(_candidates(engine, filters, names))
    return [_gap(*candidate, test) for candidate, test in zip(found, _tested(found), strict=True)]


# One comparison: the measure, the group's dimension and value, the trait both sides share (None:
# everyone in the view), the group's row, the reference's row, and the measure's aggregate and
# suppression minimum.
Candidate = tuple[str, str, str, "tuple[str, str] | None", dict[str, Any], dict[str, Any], tuple[str, int]]


def _candidates(engine: Engine, filters: Filters, names: Sequence[str]) -> Iterator[Candidate]:
    """Yield every comparison of the measures `names` under the filters, their questions asked at once."""
    plans = [(name, _plan(engine, name, filters)) for name in names if name in engine.catalog.metrics]
    results = iter(engine.run_many([q for _, plan in plans for q in plan.values()]))
    for name, plan in plans:
        yield from _compare(engine, name, plan, {k: next(results) for k in plan})


def _tested(found: Sequence[Candidate]) -> list[Difference]:
    """Return the test of each comparison (`compare.gap`), those of one measure made at once."""
    tests = [NONE] * len(found)
    places: dict[tuple[str, int], list[int]] = {}
    for i, (*_, how) in enumerate(found):
        places.setdefault(how, []).append(i)
    for how, measure in places.items():
        for i, test in zip(
            measure, gaps_of([(found[i][4], found[i][5]) for i in measure], *how), strict=True
        ):
            tests[i] = test
    return tests


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
    each equity dimension with each trait."""
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


def _compare(
    engine: Engine, name: str, plan: dict[tuple[str, ...], Query], results: dict[tuple[str, ...], Any]
) -> Iterator[Candidate]:
    """Yield each equity group against everyone in the view, and against those sharing one trait."""
    metric = engine.metric(name)
    aggregate, smallest = metric.aggregate, engine.threshold(metric)
    overall = results[()].row(0, named=True) if results[()].height else None
    alone = {by[0]: _rows(results[by], by) for by in plan if len(by) == 1}
    compared: list[tuple[str, str, tuple[str, str] | None, dict[str, Any], dict[str, Any] | None]] = []
    for dimension in EQUITY_DIMENSIONS:
        compared += [(dimension, g, None, row, overall) for (g,), row in alone.get(dimension, {}).items()]
    for by in (b for b in plan if len(b) == 2):
        first, second = by
        for (a, b), row in _rows(results[by], by).items():
            context = alone[second].get((b,))
            # A trait everyone in the view shares (the only channel there is) adds nothing to the view.
            if not _everyone(context, overall):
                compared.append((first, a, (second, b), row, context))
            if second in EQUITY_DIMENSIONS and not _everyone(alone[first].get((a,)), overall):
                compared.append((second, b, (first, a), row, alone[first].get((a,))))
    how = (aggregate, smallest)
    for dimension, group, within, row, reference in compared:
        # A group that is everyone it would be compared with has no one to differ from.
        if reference is not None and not _everyone(row, reference):
            yield name, dimension, group, within, row, reference, how


def _everyone(rows: dict[str, Any] | None, of: dict[str, Any] | None) -> bool:
    """Whether `rows` are all the people of `of` (the same count: they are drawn from them)."""
    return rows is not None and of is not None and rows["n"] == of["n"]


def _rows(frame: Any, by: tuple[str, ...]) -> dict[tuple[str, ...], dict[str, Any]]:
    """Return a result's shown rows by their groups; people who did not say are not a group to rank."""
    rows = {}
    for row in frame.iter_rows(named=True):
        key = tuple(str(row[d]) for d in by)
        if contract.NOT_REPORTED not in key and not row["suppressed"] and row["value"] is not None:
            rows[key] = row
    return rows


def _gap(
    name: str,
    dimension: str,
    group: str,
    context: tuple[str, str] | None,
    row: dict[str, Any],
    reference: dict[str, Any],
    how: tuple[str, int],
    test: Difference,
) -> Gap:
    return Gap(name, dimension, group, context, row, reference, test, gap_interval(row, reference, *how))


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
