"""Trends: a metric over fiscal quarters or months, optionally split by a dimension, and the
quarters where the trust question's wording or scale changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from metrics.analyses.breaks import asked_item, counts_every_answer, on_the_other_scale, surveyed, unasked
from metrics.contract import SURVEY_TYPE_WORDS
from metrics.query import Engine, Filters

GRAINS = ("fiscal_quarter", "month")


def series(
    engine: Engine, name: str, filters: Filters, grain: str, split: str | None
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Return the metric by period (and split), with the filters its rows could not take."""
    return series_many(engine, (name,), filters, grain, split)[0]


def series_many(
    engine: Engine, names: Sequence[str], filters: Filters, grain: str, split: str | None = None
) -> list[tuple[pl.DataFrame, tuple[str, ...]]]:
    """Return `series` of each measure of `names`, asked at once (Engine.run_many): What customers say
    draws its five themes' lines, in one or two statements rather than five one after another."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}")
    by = [grain] + ([split] if split else [])
    asked = [engine.applicable(filters.query(name, by=by)) for name in names]
    results = engine.run_many([query for query, _ in asked])
    return [(result, ignored) for result, (_, ignored) in zip(results, asked, strict=True)]


def where_it_stops(engine: Engine, name: str, filters: Filters, frame: pl.DataFrame) -> str | None:
    """Say where a measure's quarterly series ends before the period does, and why when the surveys
    went on without asking it; None when the line runs to the period's end."""
    with_data = frame.filter(pl.col("suppressed") | (pl.col("n") > 0))["fiscal_quarter"].to_list()
    if not with_data or not filters.end or max(with_data) >= filters.end:
        return None
    last = max(with_data)
    why = "no answers or records in the later quarters"
    # Every later quarter's surveys without the item (trust after a contact: trust may have been
    # asked there of people with no contact). A measure no survey asks never reads the responses.
    if not_asked := unasked(engine, name, filters, last, filters.end):
        later = {q for q in surveyed(engine, filters, last, filters.end) if q > last}
        if later and later <= not_asked:
            why = "the surveys answered after it did not ask this item"
    return f"{engine.metric(name).label} has no data after {last}: {why}."


# What a page says of a measure with no rows under its filters, unless it says so in its own words.
NOTHING = "No data for these filters."


def why_empty(
    engine: Engine, name: str, filters: Filters, nothing: str = NOTHING, offered: bool = True
) -> str:
    """Say why a measure has no series at all under the filters: surveys were answered that did not
    ask it ("not asked"), or asked it on its other scale, or there is simply no data (`nothing`, in
    the page's own words). `offered`: the page offers the other scale's measure to choose."""
    not_asked = unasked(engine, name, filters, filters.start, filters.end)
    # Not asked in any quarter surveyed (trust after a contact: trust asked of no one, not merely of
    # no one after a contact). A measure no survey asks never reads the responses.
    if not_asked and not_asked == surveyed(engine, filters, filters.start, filters.end):
        item = asked_item(engine, name) or name
        if other := on_the_other_scale(engine, name, filters, filters.start, filters.end):
            label = engine.metric(other).label
            pointer = f"Choose {label}" if offered else f"See {label} on the Trends page"
            if caveat := counts_every_answer(engine, name):
                pointer += f": it {caveat}"
            return (
                f"{engine.metric(name).label} was not asked on this scale: the surveys answered under these "
                f"filters asked this question on its other scale. {pointer}."
            )
        return (
            f"{engine.metric(name).label} was not asked: the surveys answered under these filters did not "
            + (
                f"ask {engine.metric(item).label}, whose answers it counts."
                if item != name
                else "ask this item."
            )
        )
    return nothing


@dataclass(frozen=True)
class WordingChange:
    """A quarter in which an A-11 item was asked differently than the quarter before."""

    item: str
    quarter: str
    added: tuple[str, ...]  # wordings (with scale) asked this quarter and not the one before
    removed: tuple[str, ...]  # wordings asked the quarter before and no longer

    def describe(self) -> str:
        """Say what changed in a sentence."""
        parts = [f"now asked as “{a}”" for a in self.added] + [f"no longer “{r}”" for r in self.removed]
        return f"{self.quarter}: {self.item} question " + "; ".join(parts)


def wording_changes(
    engine: Engine, filters: Filters, items: Sequence[str] = ("trust",)
) -> list[WordingChange]:
    """Return the quarters where an item's wording or scale changed (the trust question's by default),
    for the filtered services and channels (the wording carries no other dimension)."""
    return [change for item in items for change in _item_changes(engine, filters, item)]


def _item_changes(engine: Engine, filters: Filters, item: str) -> list[WordingChange]:
    wording = engine.visible(engine.warehouse.frame("select * from question_wording")).filter(
        pl.col("item") == item
    )
    for dimension, values in filters.where:
        if dimension in ("service", "channel"):
            wording = wording.filter(pl.col(dimension).is_in(list(values)))
    if filters.start:
        wording = wording.filter(pl.col("fiscal_quarter") >= filters.start)
    if filters.end:
        wording = wording.filter(pl.col("fiscal_quarter") <= filters.end)
    described = (
        wording.with_columns(
            (
                pl.col("question_text")
                + " ("
                + pl.col("survey_type").replace(SURVEY_TYPE_WORDS).str.replace_all("_", " ")
                + ")"
            ).alias("asked")
        )
        .group_by("fiscal_quarter")
        .agg(pl.col("asked").unique().sort())
        .sort("fiscal_quarter")
    )
    changes = []
    previous: list[str] | None = None
    for quarter, asked in described.iter_rows():
        if previous is not None and asked != previous:
            added = tuple(sorted(set(asked) - set(previous)))
            removed = tuple(sorted(set(previous) - set(asked)))
            changes.append(WordingChange(item, quarter, added, removed))
        previous = list(asked)
    return changes
