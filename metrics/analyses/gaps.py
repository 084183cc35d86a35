"""Where are we failing whom: the largest equity gaps of a view, ranked, for the overview.

Each equity group is compared with the people it is one of: everyone in the view, or everyone who
shares one other trait with it (an age band, a channel, a service, a segment, a quarter). Comparing
rural customers aged 65+ with all customers aged 65+ finds what being rural costs at that age, where
comparing them with everyone would mostly find what being 65+ costs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from metrics import contract
from metrics.analyses.breaks import as_asked
from metrics.compare import Difference, GapTests, gap_interval, gap_tests
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
    found = _compared(engine, filters, names)
    adjusted = holm([p for measure in found for p in measure.tests.p])
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
    found = _compared(engine, filters, comparable(engine, names))
    return [m.gap(i, m.tests.difference(i)) for m in found for i in range(len(m.tests.delta))]


def questions(engine: Engine, filters: Filters, names: Sequence[str] = GAP_METRICS) -> list[Query]:
    """Return every question `gaps` asks of its measures, so that a page can ask them with its others
    (Engine.run_many)."""
    found = comparable(engine, as_asked(engine, names, filters))
    return [query for name in found for query in _plan(engine, name, filters).values()]


def comparable(engine: Engine, names: Sequence[str] = GAP_METRICS) -> tuple[str, ...]:
    """Return the measures of `names` the catalog has and the data can give: those whose inputs cannot
    be used are left out of the search rather than stopping it."""
    return tuple(n for n in names if engine.computable(n))


# Where a row is among a measure's answers: the answer's place, and the row's place in it.
Place = tuple[int, int]


@dataclass(frozen=True)
class _Measure:
    """Every comparison of one measure in a view, in the order made, as columns: the group's dimension
    and value, the trait both sides share (None: everyone in the view), where the group's row and
    the reference's are among the answers (each a column dict), and each comparison's test."""

    name: str
    aggregate: str
    smallest: int
    answers: list[dict[str, list[Any]]]
    dimension: list[str]
    group: list[str]
    context: list[tuple[str, str] | None]
    rows: list[Place]
    references: list[Place]
    tests: GapTests

    def row(self, place: Place) -> dict[str, Any]:
        """Return a row as the answer has it, every column by name."""
        answer, i = place
        return {c: values[i] for c, values in self.answers[answer].items()}

    def gap(self, i: int, test: Difference) -> Gap:
        """Return the `i`th comparison as a Gap, with `test`."""
        row, reference = self.row(self.rows[i]), self.row(self.references[i])
        interval = gap_interval(row, reference, self.aggregate, self.smallest)
        return Gap(
            self.name, self.dimension[i], self.group[i], self.context[i], row, reference, test, interval
        )


def _compared(engine: Engine, filters: Filters, names: Sequence[str]) -> list[_Measure]:
    """Return every comparison of the measures `names` under the filters, their questions asked at
    once, each measure's tested together."""
    plans = [(name, _plan(engine, name, filters)) for name in names]
    results = iter(engine.run_many([q for _, plan in plans for q in plan.values()]))
    return [_measure(engine, name, plan, [next(results) for _ in plan]) for name, plan in plans]


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


def _measure(
    engine: Engine, name: str, plan: Mapping[tuple[str, ...], Query], results: list[Any]
) -> _Measure:
    """Compare each equity group with everyone in the view, and with those sharing one trait, and
    test every comparison at once."""
    metric = engine.metric(name)
    bys = list(plan)
    answers = [frame.to_dict(as_series=False) for frame in results]
    n = [answer["n"] for answer in answers]
    whole = bys.index(())
    overall: Place | None = (whole, 0) if results[whole].height else None
    alone = {by[0]: _rows(answers, k, by) for k, by in enumerate(bys) if len(by) == 1}
    compared: list[tuple[str, str, tuple[str, str] | None, Place, Place | None]] = []

    def everyone(rows: Place | None, of: Place | None) -> bool:
        """Whether `rows` are all the people of `of` (the same count: they are drawn from them)."""
        return rows is not None and of is not None and n[rows[0]][rows[1]] == n[of[0]][of[1]]

    for dimension in EQUITY_DIMENSIONS:
        compared += [(dimension, g, None, row, overall) for (g,), row in alone.get(dimension, {}).items()]
    for k, by in enumerate(bys):
        if len(by) != 2:
            continue
        first, second = by
        for (a, b), row in _rows(answers, k, by).items():
            context = alone[second].get((b,))
            # A trait everyone in the view shares (the only channel there is) adds nothing to the view.
            if not everyone(context, overall):
                compared.append((first, a, (second, b), row, context))
            if second in EQUITY_DIMENSIONS and not everyone(alone[first].get((a,)), overall):
                compared.append((second, b, (first, a), row, alone[first].get((a,))))
    # A group that is everyone it would be compared with has no one to differ from.
    kept = [c for c in compared if c[4] is not None and not everyone(c[3], c[4])]
    rows = [c[3] for c in kept]
    references = [c[4] for c in kept if c[4] is not None]
    columns = ("value", "n", "suppressed", "ci_low", "ci_high")
    cells = [
        {c: [answers[k][c][i] for k, i in places] for c in columns if c in answers[whole]}
        for places in (rows, references)
    ]
    smallest = engine.threshold(metric)
    tests = gap_tests(cells[0], cells[1], metric.aggregate, smallest)
    return _Measure(
        name, metric.aggregate, smallest, answers, [c[0] for c in kept], [c[1] for c in kept],
        [c[2] for c in kept], rows, references, tests,
    )  # fmt: skip


def _rows(answers: list[dict[str, list[Any]]], k: int, by: tuple[str, ...]) -> dict[tuple[str, ...], Place]:
    """Return where the `k`th answer's shown rows are, by their groups; people who did not say are not
    a group to rank."""
    answer = answers[k]
    keys = zip(*([str(v) for v in answer[d]] for d in by), strict=True)
    shown = zip(answer["suppressed"], answer["value"], strict=True)
    return {
        key: (k, i)
        for i, (key, (hidden, value)) in enumerate(zip(keys, shown, strict=True))
        if contract.NOT_REPORTED not in key and not hidden and value is not None
    }


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
