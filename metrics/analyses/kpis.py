"""Headline KPIs for a quarter: value, change on the previous quarter, target, history, and the
largest moves across services and segments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from metrics.analyses.breaks import (
    SAME,
    Basis,
    as_asked,
    asked_item,
    basis,
    channel_labels,
    item_query,
    on_the_other_scale,
    other_scale_named,
    population_query,
    populations,
    surveyed_in,
    surveyed_query,
    unasked_in,
)
from metrics.catalog import THEMES, Metric
from metrics.compare import (
    MET,
    MET_WITHIN_NOISE,
    MISSED,
    NONE,
    SHORT_WITHIN_NOISE,
    Difference,
    adjusted,
    against_target,
    change,
)
from metrics.dimensions import DIMENSIONS
from metrics.fiscal import FiscalQuarter
from metrics.formatting import (
    NO_DATA,
    NOT_APPLICABLE,
    NOT_ASKED,
    SUPPRESSED,
    format_delta,
    format_statistic,
    format_value,
)
from metrics.measures import OTHER_SCALE, THEME_METRICS, TRUST, TRUST_THUMBS
from metrics.query import Engine, Filters, Query

HISTORY_QUARTERS = 8
# The overview's tiles, and the key figures of a briefing from a page without figures of its own.
HEADLINE = (*THEME_METRICS, "wait_median", "self_service_rate")
# The overview's row of tiles: how many answered and the response rate, then the headline measures.
OVERVIEW_COUNTS = ("responses", "response_rate")
OVERVIEW_TILES = (*OVERVIEW_COUNTS, *HEADLINE)
SHOWN = "shown"


def headline_measures(engine: Engine, filters: Filters, quarter: str) -> tuple[str, ...]:
    """Return HEADLINE as the view's quarter was asked: trust on the five-point scale where it has any
    answer in `quarter` (shown or hidden), else Trust (thumbs) where that has (Touchpoints' v2
    default). "No one answered the trust question" over thumbs answers said the opposite."""
    if not engine.computable(TRUST):
        return HEADLINE  # no survey answers to read: the tiles say why
    five = engine.run(scale_question(engine, filters, quarter))
    if any(
        r["suppressed"] or r["value"] is not None
        for r in five.iter_rows(named=True)
        if r["fiscal_quarter"] == quarter
    ):
        return HEADLINE
    if on_the_other_scale(engine, TRUST, filters, quarter, quarter) is None:
        return HEADLINE
    return tuple(TRUST_THUMBS if n == TRUST else n for n in HEADLINE)


def scale_question(engine: Engine, filters: Filters, quarter: str) -> Query:
    """Return the question `headline_measures` reads trust's scale off: the very question trust's tile
    asks (kept by the engine), so the common case costs no statement of its own."""
    start = quarters_back(quarter, HISTORY_QUARTERS - 1)
    return engine.applicable(filters.query(TRUST, by=["fiscal_quarter"], start=start, end=quarter))[0]


def opening_measure(engine: Engine, names: Sequence[str], filters: Filters) -> str:
    """Return the measure a page of `names` (in reading order) opens on: trust, on the scale the
    view's surveys asked it; where no survey answer can be read, the first measure that can be."""
    trust = as_asked(engine, (TRUST,), filters)[0]
    if engine.computable(trust):
        return trust
    return next((n for n in names if engine.computable(n)), trust)


def kept_apart(engine: Engine, measures: Sequence[str]) -> tuple[str, ...]:
    """Return the trust measure on the scale the headline does not lead with (Trust (thumbs) beside
    five-point trust), to be asked with the tiles: a quarter with some surveys on each scale shows one,
    and the overview says what the other holds rather than leave its answers unmentioned. None where it
    cannot be computed."""
    other = OTHER_SCALE.get(measures[0]) if measures else None
    if other is None or not engine.computable(other):
        return ()
    return (other,)


def reading_order(metrics: Sequence[Metric]) -> list[str]:
    """Return metric names as a leader looks for them: the headline measures first, then by theme
    (the catalog's order, the v2 checklist items of the Drivers theme last), then by label."""
    themes = [t for t in THEMES if t != "Drivers"] + ["Drivers"]

    def key(m: Metric) -> tuple[int, int, str]:
        headline = HEADLINE.index(m.name) if m.name in HEADLINE else len(HEADLINE)
        theme = themes.index(m.theme) if m.theme in themes else len(themes)
        return headline, theme, m.label.lower()

    return [m.name for m in sorted(metrics, key=key)]


@dataclass(frozen=True)
class Tile:
    """One KPI for one quarter under a page's filters."""

    metric: Metric
    quarter: str
    current: dict[str, Any]  # value, n, ci_low, ci_high, suppressed (and mean)
    previous: dict[str, Any] | None
    change: Difference
    target: str | None  # metrics.compare.against_target's reading
    history: tuple[tuple[str, float | None], ...]  # (quarter, value) oldest first; None when hidden
    ignored_filters: tuple[str, ...]  # filters this metric's rows cannot take
    basis: Basis = SAME  # what the change compares when the population changed between the quarters
    state: str = SHOWN  # SHOWN, or why there is no value: hidden, no data, not asked, not applicable
    note: str = ""  # why, in words, when the state is not asked or not applicable
    hidden_quarters: tuple[str, ...] = ()  # the quarters of `history` hidden, not without data
    unasked_quarters: tuple[str, ...] = ()  # those whose surveys did not ask the item


def quarters_back(quarter: str, count: int) -> str:
    """Return the label of the quarter `count` quarters before `quarter`."""
    q = FiscalQuarter.parse(quarter)
    for _ in range(count):
        q = q.previous()
    return q.label


@dataclass(frozen=True)
class _TileQuestions:
    """What the tiles of some measures ask: each one's quarters (and the filters it cannot take), the
    populations its change is read like for like on, what its data holds of the filtered dimensions
    (its state, `with_state`), its survey item's quarters, and the quarters anyone answered a survey
    in (None where no tile is of a survey item)."""

    asked: list[tuple[Query, tuple[str, ...]]]
    bases: list[Query]
    held: list[Query]
    items: list[Query | None]
    surveyed: Query | None

    @classmethod
    def of(cls, engine: Engine, names: Sequence[str], filters: Filters, quarter: str) -> _TileQuestions:
        start, previous = quarters_back(quarter, HISTORY_QUARTERS - 1), quarters_back(quarter, 1)
        # Where the measure's item (`asked_item`: itself, or the one whose answers it counts some of)
        # has no answers in a quarter someone answered a survey in, it was not asked. The survey
        # quarters are asked only with a survey item: tiles of contacts or transactions alone never
        # read the responses, which may be missing.
        items = [item_query(engine, name, filters, start, quarter) for name in names]
        return cls(
            [
                engine.applicable(filters.query(name, by=["fiscal_quarter"], start=start, end=quarter))
                for name in names
            ],
            [population_query(engine, name, filters, start=previous, end=quarter) for name in names],
            [
                query
                for name in names
                for dimension, _ in _filtered(engine, engine.metric(name), filters)
                for query in engine.values_asked(dimension, name)
            ],
            items,
            surveyed_query(engine, filters, start, quarter) if any(items) else None,
        )

    def queries(self) -> list[Query]:
        """Every question but the survey quarters, in one list."""
        return [
            *(query for query, _ in self.asked),
            *self.bases,
            *self.held,
            *(q for q in self.items if q is not None),
        ]

    def all(self) -> list[Query]:
        """Every question, the survey quarters last."""
        return [*self.queries(), *([self.surveyed] if self.surveyed is not None else [])]


def tile_questions(engine: Engine, names: Sequence[str], filters: Filters, quarter: str) -> list[Query]:
    """Return every question `tiles` asks, so that a page can ask them with its others (run_many)."""
    return _TileQuestions.of(engine, names, filters, quarter).all()


def tiles(engine: Engine, names: Sequence[str], filters: Filters, quarter: str) -> list[Tile]:
    """Compute the KPI tiles of `names`, every question of theirs answered together (Engine.run_many):
    asked tile by tile, each kind would take a statement per measure."""
    asked = _TileQuestions.of(engine, names, filters, quarter)
    queries = asked.queries()
    results = engine.run_many(asked.all())
    surveys = surveyed_in(results[-1]) if asked.surveyed is not None else frozenset()
    # A survey item's own tile question is its item's question too.
    answered = dict(zip(queries, results[: len(queries)], strict=True))
    found = [
        _tile(
            engine.metric(name),
            quarter,
            answered[query],
            ignored,
            unasked_in(surveys, answered[item] if item is not None else None),
        )
        for name, (query, ignored), item in zip(names, asked.asked, asked.items, strict=True)
    ]
    return engine.each(lambda t: with_state(engine, like_for_like(engine, t, filters), filters), found)


def with_state(engine: Engine, tile: Tile, filters: Filters) -> Tile:
    """Return the tile with its state: a measure that does not apply to the view, an item the view's
    surveys did not ask, a hidden value and no data are each told apart."""
    metric, where = tile.metric, dict(filters.where)
    if metric.compares and len(where.get(metric.compares, ())) == 1:
        label = DIMENSIONS[metric.compares].label.lower()
        note = f"{metric.label} compares one {label} with another: it does not apply within one."
        return replace(tile, state=NOT_APPLICABLE, note=note, change=NONE)
    for dimension, chosen in _filtered(engine, metric, filters):
        known = engine.values(dimension, metric.name)
        if known and not set(chosen) & set(known):
            labels = channel_labels(engine) if dimension == "channel" else {}
            named = [labels.get(c, c) for c in chosen]
            note = (
                f"{metric.label} does not apply to {DIMENSIONS[dimension].label.lower()} "
                f"{', '.join(named)}: its data has none."
            )
            return replace(tile, state=NOT_APPLICABLE, note=note, change=NONE)
    if tile.current.get("suppressed"):
        return replace(tile, state=SUPPRESSED)
    if tile.current.get("n"):
        return tile
    if tile.quarter in tile.unasked_quarters:  # surveys answered in it, none to this item (`_tile`)
        note = f"The surveys answered in {tile.quarter} under these filters did not ask this item."
        # A measure of some of an item's answers (trust after a contact) was not asked as its item was not.
        item = asked_item(engine, metric.name) or metric.name
        if item != metric.name:
            note = (
                f"The surveys answered in {tile.quarter} under these filters did not ask "
                f"{engine.metric(item).label}, whose answers this counts."
            )
        if other := on_the_other_scale(engine, metric.name, filters, tile.quarter, tile.quarter):
            note = (
                f"The surveys answered in {tile.quarter} under these filters asked this question on its "
                f"other scale: see {other_scale_named(engine, metric.name, other)}."
            )
        return replace(tile, state=NOT_ASKED, note=note)
    return replace(tile, state=NO_DATA)


def _filtered(engine: Engine, metric: Metric, filters: Filters) -> list[tuple[str, tuple[str, ...]]]:
    """Return the filters on the measure's own dimensions other than periods: a value its data never
    holds makes it not apply to the view."""
    return [
        (d, chosen)
        for d, chosen in filters.where
        if d in engine.dimensions(metric) and DIMENSIONS[d].kind != "time"
    ]


def tile_value(tile: Tile) -> str:
    """Return the tile's value as people read it, or the word for why there is none."""
    if tile.state in (NOT_ASKED, NOT_APPLICABLE):
        return tile.state
    return format_statistic(tile.current["value"], tile.current.get("suppressed"), tile.metric.format)


def like_for_like(engine: Engine, tile: Tile, filters: Filters) -> Tile:
    """Return the tile with its change on the population asked in both quarters, or marked not
    comparable, when the channels or survey versions behind the measure differ between them."""
    previous = quarters_back(tile.quarter, 1)
    found = populations(engine, tile.metric.name, filters, start=previous, end=tile.quarter)
    empty: frozenset[tuple[str, ...]] = frozenset()
    common = basis(engine, tile.metric.name, found.get((previous,), empty), found.get((tile.quarter,), empty))
    if common == SAME or tile.change.delta is None:
        return tile
    if not common.comparable:
        return replace(tile, change=NONE, basis=common)
    rows = narrowed(engine, tile.metric.name, filters, dict(common.where), previous, tile.quarter)
    return replace(
        tile, change=change(rows.get(tile.quarter), rows.get(previous), tile.metric.aggregate), basis=common
    )


def narrowed_query(
    engine: Engine, name: str, filters: Filters, where: dict[str, tuple[str, ...]], start: str, end: str
) -> Query:
    """Return the question `narrowed` asks, so that a page can ask several at once (Engine.run_many)."""
    return engine.applicable(filters.query(name, by=["fiscal_quarter"], where=where, start=start, end=end))[0]


def narrowed(
    engine: Engine, name: str, filters: Filters, where: dict[str, tuple[str, ...]], start: str, end: str
) -> dict[str, dict[str, Any]]:
    """Return the measure's row per quarter from `start` to `end` under the filters narrowed by `where`
    (a like-for-like basis, a group)."""
    query = narrowed_query(engine, name, filters, where, start, end)
    return {r["fiscal_quarter"]: r for r in engine.run(query).iter_rows(named=True)}


def tile(engine: Engine, name: str, filters: Filters, quarter: str) -> Tile:
    """Compute a KPI tile: one breakdown by quarter over the last eight quarters up to `quarter`."""
    return tiles(engine, (name,), filters, quarter)[0]


def _tile(
    metric: Metric,
    quarter: str,
    result: pl.DataFrame,
    ignored: tuple[str, ...],
    not_asked: frozenset[str] = frozenset(),
) -> Tile:
    """A tile of `result` (the measure by quarter); `not_asked`: the quarters whose surveys did not
    ask the measure's item (`unasked_in`), where no value is "not asked" rather than "no data"."""
    rows = {r["fiscal_quarter"]: r for r in result.iter_rows(named=True)}
    # A quarter with no row has no data under these filters: nothing is hidden there.
    empty = {"value": None, "n": 0, "ci_low": None, "ci_high": None, "suppressed": False}
    current = rows.get(quarter, empty)
    previous = rows.get(quarters_back(quarter, 1))
    history = []
    hidden: list[str] = []
    unasked: list[str] = []
    q = FiscalQuarter.parse(quarters_back(quarter, HISTORY_QUARTERS - 1))
    for _ in range(HISTORY_QUARTERS):
        row = rows.get(q.label, empty)
        history.append((q.label, row["value"]))
        if row["suppressed"]:
            hidden.append(q.label)
        elif row["value"] is None and q.label in not_asked:
            unasked.append(q.label)
        q = q.next()
    return Tile(
        metric=metric,
        quarter=quarter,
        current=current,
        previous=previous,
        change=change(current, previous, metric.aggregate),
        target=against_target(current, metric.target, metric.direction),
        history=tuple(history),
        ignored_filters=ignored,
        hidden_quarters=tuple(hidden),
        unasked_quarters=tuple(unasked),
    )


def describe_change(tile: Tile) -> str:
    """Say in words how the value moved and whether that is beyond sampling noise, and on what basis
    when the population behind the measure changed between the quarters."""
    if not tile.basis.comparable:
        return f"No like-for-like change on the previous quarter: {tile.basis.note}."
    if tile.change.delta is None:
        return f"No comparison with the previous quarter: {_uncompared(tile)}."
    moved = format_delta(tile.change.delta, tile.metric.format)
    on = f" ({tile.basis.note})" if tile.basis.note else ""
    if tile.change.z is None:
        return f"{moved} on the previous quarter{on}."
    verdict = "beyond sampling noise" if tile.change.significant else "within sampling noise"
    return f"{moved} on the previous quarter{on}: {verdict}."


def _uncompared(tile: Tile) -> str:
    """Say why a tile has no change on the previous quarter: which of the two is hidden, has no data,
    or was not asked; "hidden or no data" left a leader to guess whether there was anything at all."""
    previous = quarters_back(tile.quarter, 1)
    before = tile.previous or {}
    if tile.current.get("suppressed"):
        return f"{tile.quarter} is hidden ({SUPPRESSED}: too few answers)"
    if tile.current.get("value") is None:
        return f"no data in {tile.quarter}"
    if before.get("suppressed"):
        return f"{previous} is hidden ({SUPPRESSED}: too few answers)"
    if previous in tile.unasked_quarters:
        return f"the surveys of {previous} did not ask it"
    return f"no data in {previous}"


def describe_tile(tile: Tile) -> list[str]:
    """Say in words what a tile shows under its value: change, target, n and filters it cannot take."""
    metric = tile.metric
    if tile.state in (NOT_ASKED, NOT_APPLICABLE):
        return [tile.note]
    lines = [describe_change(tile)]
    if metric.target is not None:
        status = {
            MET: "met",
            MET_WITHIN_NOISE: "met, but within sampling noise of it",
            SHORT_WITHIN_NOISE: "not met, but within sampling noise of it",
            MISSED: "not met",
        }.get(tile.target or "", "unknown")
        lines.append(f"Target {format_value(metric.target, metric.format)}: {status}.")
    n = tile.current["n"]
    if tile.current.get("suppressed"):
        lines.append("Fewer than the minimum responses: hidden.")
    elif not n:
        lines.append(f"No data in {tile.quarter} under these filters.")
    else:
        lines.append(f"n = {n:,}")
    if tile.ignored_filters:
        lines.append(f"Not filtered by {', '.join(tile.ignored_filters)} (its data has none).")
    return lines


@dataclass(frozen=True)
class Move:
    """A change in one group between two quarters."""

    metric: Metric
    dimension: str
    group: str
    previous: float
    current: float
    difference: Difference
    basis: Basis = SAME  # the like-for-like basis when the group's population changed


@dataclass(frozen=True)
class Moves:
    """The largest moves beyond noise, and how many groups' changes were tested to find them: none
    tested is nothing compared, not "nothing moved"."""

    listed: tuple[Move, ...]
    tested: int


def _moved_groups(
    engine: Engine, names: Sequence[str], dimensions: Sequence[str]
) -> list[tuple[Metric, str]]:
    """Return each measure of `names` with each of `dimensions` its rows carry."""
    return [
        (engine.metric(name), dimension)
        for name in names
        for dimension in dimensions
        if dimension in engine.dimensions(engine.metric(name))
    ]


def move_questions(
    engine: Engine, names: Sequence[str], dimensions: Sequence[str], filters: Filters, quarter: str
) -> list[Query]:
    """Return the questions `largest_moves` asks first, so that a page can ask them with its others
    (run_many): each measure's groups in the two quarters, then the populations each group's change
    is read like for like on."""
    return _move_questions(engine, _moved_groups(engine, names, dimensions), filters, quarter)


def _move_questions(
    engine: Engine, asked: Sequence[tuple[Metric, str]], filters: Filters, quarter: str
) -> list[Query]:
    previous = quarters_back(quarter, 1)
    return [
        *(
            engine.applicable(
                filters.query(metric.name, by=["fiscal_quarter", dimension], start=previous, end=quarter)
            )[0]
            for metric, dimension in asked
        ),
        *(
            population_query(engine, metric.name, filters, [dimension], previous, quarter)
            for metric, dimension in asked
        ),
    ]


def largest_moves(
    engine: Engine,
    names: tuple[str, ...],
    dimensions: tuple[str, ...],
    filters: Filters,
    quarter: str,
    limit: int = 8,
) -> Moves:
    """Return the largest changes beyond noise from the previous quarter, across groups of `dimensions`,
    each tested with Holm's adjustment over every group tested, and how many were. A group whose channels or survey
    versions changed is compared like for like, or left out when no part of it was asked in both."""
    previous = quarters_back(quarter, 1)
    asked = _moved_groups(engine, names, dimensions)
    queries = _move_questions(engine, asked, filters, quarter)
    groups = []
    empty: frozenset[tuple[str, ...]] = frozenset()
    for (metric, dimension), result in zip(asked, engine.run_many(queries)[: len(asked)], strict=True):
        found = populations(engine, metric.name, filters, by=[dimension], start=previous, end=quarter)
        by_group: dict[str, dict[str, dict[str, Any]]] = {}
        for row in result.iter_rows(named=True):
            by_group.setdefault(row[dimension], {})[row["fiscal_quarter"]] = row
        for group, cells in by_group.items():
            common = basis(
                engine, metric.name, found.get((group, previous), empty), found.get((group, quarter), empty)
            )
            if common.comparable:  # else no like-for-like change: not a move
                where = {dimension: (group,), **dict(common.where)}
                groups.append((metric, dimension, group, cells, common, where))
    # The groups read like for like, asked at once rather than one statement each.
    engine.run_many(
        [
            narrowed_query(engine, metric.name, filters, where, previous, quarter)
            for metric, _, _, _, common, where in groups
            if common != SAME
        ]
    )
    tested = []
    for metric, dimension, group, cells, common, where in groups:
        if common != SAME:
            cells = narrowed(engine, metric.name, filters, where, previous, quarter)
        difference = change(cells.get(quarter), cells.get(previous), metric.aggregate)
        if difference.p is not None:
            tested.append(
                Move(
                    metric,
                    dimension,
                    group,
                    cells[previous]["value"],
                    cells[quarter]["value"],
                    difference,
                    common,
                )
            )
    # Every group tested is in the family, not only those listed: the list is the largest of them.
    moves = [
        replace(move, difference=difference)
        for move, difference in zip(tested, adjusted([m.difference for m in tested]), strict=True)
        if difference.significant
    ]
    moves.sort(key=lambda m: -abs(m.difference.z or 0))
    # A segment served by one service moves exactly as that service: list the move once.
    unique = {(m.metric.name, m.previous, m.current): m for m in reversed(moves)}
    listed = [m for m in moves if unique[(m.metric.name, m.previous, m.current)] is m][:limit]
    return Moves(tuple(listed), len(tested))
