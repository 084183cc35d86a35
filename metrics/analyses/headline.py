"""The overview's answer in words: the headline measure in a quarter against the quarter before, the
same quarter a year earlier and, for the fiscal year to date, the same quarters a year earlier; each
change like for like and tested, so the sentence never says more than the data does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metrics.analyses.breaks import SAME, Basis, basis, population_query, populations
from metrics.analyses.kpis import quarters_back
from metrics.catalog import Metric
from metrics.compare import NONE, Difference, change
from metrics.fiscal import FiscalQuarter
from metrics.formatting import NO_DATA, SUPPRESSED, format_move, format_statistic
from metrics.query import Engine, Filters, Query

Period = tuple[str, str]  # first and last fiscal quarter, inclusive


@dataclass(frozen=True)
class Comparison:
    """One change of the answer: what it is against, the tested difference and its basis."""

    against: str  # e.g. "FY2026 Q3", "FY2025 Q4", "the same quarters of FY2025"
    difference: Difference
    basis: Basis
    # Why there is no difference, where none: the earlier period had no answers (NO_DATA) or too few to
    # show (SUPPRESSED); a sentence says which, as they mean different things.
    missing: str = ""


@dataclass(frozen=True)
class Answer:
    """The headline measure in a quarter, the fiscal year to date, and how both moved."""

    metric: Metric
    quarter: str
    current: dict[str, Any]
    on_quarter: Comparison
    on_year: Comparison
    year_to_date: dict[str, Any] | None  # None in a fiscal year's first quarter (it is the quarter)
    on_year_to_date: Comparison | None


# One comparison of the answer: the quarters now, the quarters then, and what then is called.
_Comparison = tuple[tuple[str, str], tuple[str, str], str]


def _comparisons(quarter: str) -> list[_Comparison]:
    """Return what the answer compares `quarter` with: the quarter before, the same quarter a year
    before, and (past a fiscal year's first quarter) the year to date with the same quarters before."""
    first = FiscalQuarter.parse(quarter)
    opening = FiscalQuarter(first.year, 1).label
    previous, year_before = quarters_back(quarter, 1), quarters_back(quarter, 4)
    comparisons = [((quarter, quarter), (previous, previous), previous)]
    comparisons.append(((quarter, quarter), (year_before, year_before), year_before))
    if opening != quarter:
        comparisons.append(
            (
                (opening, quarter),
                (quarters_back(opening, 4), year_before),
                f"the same quarters of FY{first.year - 1}",
            )
        )
    return comparisons


def answer_questions(engine: Engine, filters: Filters, quarter: str, name: str = "trust") -> list[Query]:
    """Return every question `answer` asks, so that a page can ask them with its others (run_many):
    each comparison's two values, and the populations like is compared with like on."""
    return _answer_questions(engine, filters, name, _comparisons(quarter))


def _answer_questions(
    engine: Engine, filters: Filters, name: str, comparisons: Sequence[_Comparison]
) -> list[Query]:
    return [
        *(_value_query(engine, name, filters, p) for now, then, _ in comparisons for p in (now, then)),
        *(population_query(engine, name, filters, start=then[0], end=now[1]) for now, then, _ in comparisons),
    ]


def answer(engine: Engine, filters: Filters, quarter: str, name: str = "trust") -> Answer:
    """Return the answer for the headline measure `name` in `quarter` under the filters."""
    metric = engine.metric(name)
    comparisons = _comparisons(quarter)
    # Every question they ask when like is compared with like, asked together.
    engine.run_many(_answer_questions(engine, filters, name, comparisons))
    on_quarter, on_year, *on_year_to_date = (_compare(engine, name, filters, *c) for c in comparisons)
    # The year to date, where there is one, is the third comparison's now.
    year_to_date = comparisons[2][0] if on_year_to_date else None
    return Answer(
        metric,
        quarter,
        _value(engine, name, filters, (quarter, quarter)),
        on_quarter,
        on_year,
        _value(engine, name, filters, year_to_date) if year_to_date else None,
        on_year_to_date[0] if on_year_to_date else None,
    )


def describe_answer(found: Answer) -> str:
    """Say the answer in a sentence a leader can repeat."""
    metric, fmt = found.metric, found.metric.format
    now = format_statistic(found.current.get("value"), found.current.get("suppressed"), fmt)
    text = f"{metric.label} is {now} in {found.quarter}"
    if found.current.get("suppressed"):
        return (
            f"{metric.label} in {found.quarter} is hidden to protect privacy: too few answers in this view."
        )
    if found.current.get("value") is None:
        return f"No one answered the {metric.label.lower()} question in {found.quarter} in this view."
    moves = [_moved(c, fmt) for c in (found.on_quarter, found.on_year)]
    text += ": " + ", and ".join(moves) + "."
    if found.year_to_date is not None and found.on_year_to_date is not None:
        so_far = format_statistic(found.year_to_date.get("value"), found.year_to_date.get("suppressed"), fmt)
        fiscal_year = FiscalQuarter.parse(found.quarter).year
        text += f" For FY{fiscal_year} to date it is {so_far}, {_moved(found.on_year_to_date, fmt)}."
    return text


def _moved(comparison: Comparison, fmt: str) -> str:
    if not comparison.basis.comparable:
        return f"not comparable with {comparison.against} (the channels or survey asked changed)"
    difference = comparison.difference
    if difference.delta is None and comparison.missing == NO_DATA:
        return f"no answers in {comparison.against} to compare with"
    if difference.delta is None and comparison.missing == SUPPRESSED:
        return f"no comparison with {comparison.against}, hidden there ({SUPPRESSED}: too few answers)"
    if difference.delta is None:
        return f"no comparison with {comparison.against} (hidden or no data)"
    # A change too small to show (0.0 pts) is said as none, not "up 0.0 pts".
    way = f"{format_move(difference.delta, fmt)} on"
    if difference.p is None:
        verdict = ""
    else:
        verdict = " (beyond sampling noise)" if difference.significant else " (within sampling noise)"
    like = " like for like" if comparison.basis.note else ""
    return f"{way} {comparison.against}{like}{verdict}"


def _value(
    engine: Engine, name: str, filters: Filters, period: Period, **where: tuple[str, ...]
) -> dict[str, Any]:
    return engine.run(_value_query(engine, name, filters, period, **where)).row(0, named=True)


def _value_query(
    engine: Engine, name: str, filters: Filters, period: Period, **where: tuple[str, ...]
) -> Query:
    return engine.applicable(filters.query(name, where=where, start=period[0], end=period[1]))[0]


def _compare(
    engine: Engine, name: str, filters: Filters, now: Period, then: Period, against: str
) -> Comparison:
    """Return the change from `then` to `now`, on the population asked in both periods."""
    found = populations(engine, name, filters, start=then[0], end=now[1])
    strata = [
        frozenset(s for (q,), part in found.items() if first <= q <= last for s in part)
        for first, last in (then, now)
    ]
    if not (strata[0] and strata[1]):
        return Comparison(against, NONE, SAME, NO_DATA)  # no data in a period: nothing to compare
    common = basis(engine, name, strata[0], strata[1])
    if not common.comparable:
        return Comparison(against, NONE, common)
    where = dict(common.where)
    before, after = (_value(engine, name, filters, p, **where) for p in (then, now))
    missing = SUPPRESSED if before.get("suppressed") else NO_DATA if before.get("value") is None else ""
    return Comparison(against, change(after, before, engine.metric(name).aggregate), common, missing)
