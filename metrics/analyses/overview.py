"""The overview's questions, asked at once: its parts (the answer in words, the tiles, what changed
this quarter, the equity gaps) each ask theirs together, and a part's statements then wait for the part
before. Asked ahead in two batches (Engine.ask), the gap search's and the other parts', measures of
one aggregate under the same filters share statements within each batch, the workers are never idle
between parts, and the gap search's comparisons are worked out while the workers answer the others."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from metrics.analyses import gaps, headline, kpis
from metrics.analyses.breaks import answered_question
from metrics.errors import CxError
from metrics.measures import THEME_METRICS, TRUST, TRUST_THUMBS
from metrics.query import Engine, Filters, Query

# The groups "What changed this quarter" looks for moves in.
MOVED_BY = ("service", "segment")


def moved(measures: Sequence[str]) -> tuple[str, ...]:
    """Return the headline measures whose moves the overview lists: the themes, Trust (thumbs) where
    the quarter asked only that."""
    return tuple(n for n in measures if n in THEME_METRICS or n == TRUST_THUMBS)


def questions(engine: Engine, filters: Filters, quarter: str) -> tuple[list[Query], list[Query]]:
    """Return the questions the overview's parts ask first: those of the answer, the tiles and the
    moves, and the gap search's. The two that say on which scale the view's surveys asked trust (the
    quarter's, for the tiles; the view's, for the gap search) decide the rest, so they are asked
    first, together."""
    if engine.computable(TRUST):
        engine.run_many(
            [kpis.scale_question(engine, filters, quarter), answered_question(engine, TRUST, filters)]
        )
    measures = kpis.headline_measures(engine, filters, quarter)
    apart = kpis.kept_apart(engine, measures)
    parts = [
        *headline.answer_questions(engine, filters, quarter, measures[0]),
        *kpis.tile_questions(engine, (*kpis.OVERVIEW_COUNTS, *measures, *apart), filters, quarter),
        *kpis.move_questions(engine, moved(measures), MOVED_BY, filters, quarter),
    ]
    return parts, gaps.questions(engine, filters)


def ask_ahead(engine: Engine, filters: Filters, quarter: str) -> None:
    """Answer the overview's questions before its parts draw, kept by the engine for them to read.
    The gap search's are asked first, and its comparisons worked out (`gaps.search`, the longest
    step after the questions) while the workers answer the others. A question that fails here is
    asked again by its part, which says what is wrong where it belongs."""
    try:
        parts, compared = questions(engine, filters, quarter)
    except CxError:
        return
    searching = engine.ask(compared)
    asked = set(compared)
    rest = engine.ask([q for q in parts if q not in asked])
    with contextlib.suppress(CxError):
        searching.answers()
        gaps.gaps(engine, filters)
    with contextlib.suppress(CxError):
        rest.answers()
