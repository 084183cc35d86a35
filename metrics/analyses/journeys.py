"""Customer journeys: a service's stages in order (learn, apply, wait, decision, follow-up) with the
four theme scores and the responses behind each, the moment that matters (the stage where the
experience drops most from the stage before) and the lowest stage, each said only as far as sampling
noise allows."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from metrics.analyses.breaks import as_asked
from metrics.compare import proportion_tests
from metrics.contract import JOURNEY_STAGES, NOT_REPORTED
from metrics.measures import THEME_METRICS
from metrics.query import Engine, Filters
from metrics.significance import ALPHA, holm, needs_exact, normal_p, pooled_error

STAGES = tuple(s for s in JOURNEY_STAGES if s != NOT_REPORTED)


@dataclass(frozen=True)
class Moment:
    """The stage with the largest drop in the average theme score from the stage before it, with the
    drop's p-value, Holm-adjusted over every pair of neighbouring stages compared (None: untested)."""

    stage: str
    previous: str
    drop: float  # in share points (0.05 = 5 points), positive when the experience got worse
    p: float | None = None
    themes: tuple[str, ...] = THEME_METRICS  # the themes shown at both stages: the fall is their average's

    @property
    def beyond_noise(self) -> bool:
        """True when the drop is beyond sampling noise at the 5% level: only then is it named."""
        return self.p is not None and self.p < ALPHA


@dataclass(frozen=True)
class Lowest:
    """The stage lowest on the average of its themes shown, that average and those themes, and the
    other stages it is not below beyond sampling noise (none: it is surely the lowest)."""

    stage: str
    average: float
    themes: tuple[str, ...]
    near: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()  # stages with answers, none shown: not compared, and maybe lower

    @property
    def beyond_noise(self) -> bool:
        """True when it is below every other stage shown beyond sampling noise."""
        return not self.near


@dataclass(frozen=True)
class Journey:
    """One service's journey under the page filters."""

    service: str
    scores: pl.DataFrame  # journey_stage, metric, value, n, ci_low, ci_high, suppressed (stages in order)
    responses: dict[str, int | None]  # stage -> responses (None when hidden)
    moment: Moment | None
    ignored_filters: tuple[str, ...]
    lowest: Lowest | None = None
    compared: int = 0  # pairs of neighbouring stages with a theme shown at both: none, nothing to conclude
    asked: tuple[str, ...] = THEME_METRICS  # the four themes, trust on the scale the surveys asked it

    @property
    def empty(self) -> bool:
        """True when no stage has a score to show: nothing to conclude from."""
        return not shown(self.scores).height

    @property
    def themes(self) -> tuple[str, ...]:
        """The themes with a score shown at some stage, in the measures' order: those drawn."""
        drawn = set(shown(self.scores)["metric"].to_list())
        return tuple(m for m in self.asked if m in drawn)


def journey(engine: Engine, service: str, filters: Filters) -> Journey:
    """Return the theme scores per stage of `service`, its responses per stage and the moment that
    matters. Trust is on the scale the service's surveys asked it (`as_asked`)."""
    asked = as_asked(engine, THEME_METRICS, filters, {"service": service})
    ignored: tuple[str, ...] = ()
    queries = []
    for name in (*asked, "responses"):
        query, dropped = engine.applicable(
            filters.query(name, by=["journey_stage"], where={"service": service})
        )
        ignored += dropped if name in asked else ()
        queries.append(query)
    *themes, counted = [_in_stage_order(result) for result in engine.run_many(queries)]
    frames = [f.with_columns(pl.lit(name).alias("metric")) for name, f in zip(asked, themes, strict=True)]
    scores = pl.concat(
        [f.select("journey_stage", "metric", "value", "n", "ci_low", "ci_high", "suppressed") for f in frames]
    )
    responses = {
        row["journey_stage"]: (None if row["suppressed"] else row["n"])
        for row in counted.iter_rows(named=True)
    }
    pairs = _pairs(scores)
    return Journey(
        service,
        scores,
        responses,
        _largest_falls([pairs])[0],
        tuple(dict.fromkeys(ignored)),
        lowest_stage(scores),
        len(pairs),
        asked,
    )


def default_service(engine: Engine, filters: Filters) -> str | None:
    """Return the service with the most survey responses under the filters (a journey page's default)."""
    query, _ = engine.applicable(filters.query("responses", by=["service"]))
    shown = engine.run(query).filter(~pl.col("suppressed") & (pl.col("n") > 0))
    return str(shown.sort(["n", "service"], descending=[True, False])["service"][0]) if shown.height else None


def offered(filters: Filters, services: Sequence[str]) -> list[str]:
    """Return the services a journey page offers: the filters' services win over every service there is."""
    chosen = dict(filters.where).get("service")
    return list(chosen) if chosen else list(services)


def opening(offered: Sequence[str], largest: str | None) -> str:
    """Return the service a journey page opens on: the one with the most responses when it is offered,
    else the first offered."""
    return largest if largest is not None and largest in offered else offered[0]


def shown(scores: pl.DataFrame) -> pl.DataFrame:
    """Return the scores with a value to show: neither hidden nor over no answers."""
    return scores.filter(~pl.col("suppressed") & pl.col("value").is_not_null())


def lowest_stage(scores: pl.DataFrame) -> Lowest | None:
    """Return the stage whose average of the themes shown there is lowest, with the stages it is not
    below beyond sampling noise; None when fewer than two stages have a theme shown: nothing to be
    lowest of.

    It was picked as the lowest of them all, so it is compared with each other stage (on the themes
    shown at both, by the test of `_fall_p`) as one of every pair of stages, Holm-adjusted over them
    all; a stage with no theme in common with it is not surely above it."""
    drawn = shown(scores)
    averages = drawn.group_by("journey_stage").agg(pl.col("value").mean()).sort(["value", "journey_stage"])
    if averages.height < 2:
        return None
    stage = str(averages["journey_stage"][0])
    themes = set(drawn.filter(pl.col("journey_stage") == stage)["metric"].to_list())
    rows = _rows(scores)
    present = [s for s in STAGES if any(found == s for found, _ in rows)]
    pairs = list(itertools.combinations(present, 2))
    compared = [_compared(rows, *pair) for pair in pairs]
    adjusted = holm([c.p if c else None for c in compared])
    near = []
    for (first, second), c, p in zip(pairs, compared, adjusted, strict=True):
        if stage not in (first, second):
            continue
        # The fall is from the first stage to the second: the lowest is below when it falls to it.
        below = c is not None and (c.drop > 0 if second == stage else c.drop < 0)
        if not (below and p is not None and p < ALPHA):
            near.append(second if first == stage else first)
    average = float(averages["value"][0])
    answered = set(
        scores.filter(pl.col("suppressed") | pl.col("value").is_not_null())["journey_stage"].to_list()
    )
    hidden = tuple(s for s in STAGES if s in answered and s not in present)
    return Lowest(stage, average, tuple(m for m in _order(scores) if m in themes), tuple(near), hidden)


def moment_that_matters(scores: pl.DataFrame) -> Moment | None:
    """Return the stage whose average theme score falls most from the stage before it, comparing only
    themes shown at both stages; None when no stage falls. Its p-value is Holm-adjusted over every
    pair of neighbouring stages compared, as the largest fall of them is the one named."""
    return _largest_falls([_pairs(scores)])[0]


def _pairs(scores: pl.DataFrame) -> list[Moment]:
    """Return each pair of neighbouring stages with a theme shown at both: the average theme score's
    fall and its p-value (the test of `_fall_p`), unadjusted."""
    rows = _rows(scores)
    present = [s for s in STAGES if any(stage == s for stage, _ in rows)]
    return [c for pair in itertools.pairwise(present) if (c := _compared(rows, *pair))]


def _rows(scores: pl.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """The scores shown, by stage and theme."""
    return {(r["journey_stage"], r["metric"]): r for r in shown(scores).iter_rows(named=True)}


def _compared(rows: dict[tuple[str, str], dict[str, Any]], previous: str, stage: str) -> Moment | None:
    """Return the fall of the average theme score from `previous` to `stage` on the themes shown at
    both, with its p-value unadjusted (the test of `_fall_p`); None when they have no theme in common."""
    common = tuple(
        m for m in dict.fromkeys(m for _, m in rows) if (previous, m) in rows and (stage, m) in rows
    )
    if not common:
        return None
    (x1, n1), (x2, n2) = (_counts([rows[(s, m)] for m in common]) for s in (previous, stage))
    return Moment(stage, previous, float(np.mean(x1 / n1 - x2 / n2)), _fall_p(x1, n1, x2, n2), common)


def _order(scores: pl.DataFrame) -> tuple[str, ...]:
    """The themes of `scores` in the order asked."""
    return tuple(scores["metric"].unique(maintain_order=True).to_list())


def _counts(scores: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Return the answers agreeing and all answers behind each share."""
    n = np.array([float(r["n"]) for r in scores])
    return np.array([float(r["value"]) for r in scores]) * n, n


def _fall_p(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> float:
    """Return the two-sided p-value of the average of the themes' shares x1/n1 against the average of
    x2/n2 (one of each per theme, counts of the same themes at two stages).

    Each stage's respondents are other people than the other stage's, but a stage's themes are
    answered by the same people, so the average's standard error is bounded by the average of the
    themes' own (the standard deviation of a sum is at most the sum of theirs); each theme's is the
    pooled two-proportion test's, the spread of no difference. A conservative z-test, where every
    theme has counts enough for the normal approximation. Where one has not (an expected count under
    5, as `needs_exact` says), no z is trusted: the average moves beyond noise only if every theme
    moves the same way beyond noise on its own, by Fisher's exact test or the pooled z as
    `proportion_tests` chooses (an intersection-union test: its p-value is the largest of theirs).
    Read off each stage's 95% interval instead, 10 of 10 against 7 of 10 would be called beyond
    noise (p = 0.038; Fisher's exact test gives 0.21)."""
    deltas = x1 / n1 - x2 / n2
    average = float(np.mean(deltas))
    counts = [np.round(a).astype(np.int64) for a in (x1, n1, x2, n2)]
    if not bool(needs_exact(*counts).any()):
        error = float(np.mean(pooled_error(x1, n1, x2, n2)))
        # Every share 0 or 1 alike at both stages: no difference at all.
        return normal_p(average / error) if error > 0 else 1.0
    if average == 0 or not bool((np.sign(deltas) == np.sign(average)).all()):
        return 1.0  # not every theme moves the way the average does: nothing surely moved
    return max(p if p is not None else 1.0 for _, p, _ in proportion_tests(*counts))


def _largest_falls(journeys: list[list[Moment]]) -> list[Moment | None]:
    """Return each journey's largest fall, every pair of every journey shown together Holm-adjusted as
    one family."""
    adjusted = iter(holm([pair.p for pairs in journeys for pair in pairs]))
    found: list[Moment | None] = []
    for pairs in journeys:
        falls = [replace(pair, p=next(adjusted)) for pair in pairs]
        found.append(max((f for f in falls if f.drop > 0), key=lambda f: f.drop, default=None))
    return found


def by_segment(
    engine: Engine, service: str, theme: str, filters: Filters
) -> tuple[pl.DataFrame, dict[str, Moment | None]]:
    """Return one theme by segment and stage for `service`, and the moment that matters on that theme
    of each segment with two neighbouring stages shown (a segment without is left out: there is
    nothing to compare), so segments' journeys can be compared."""
    query, _ = engine.applicable(
        filters.query(theme, by=["segment", "journey_stage"], where={"service": service})
    )
    result = _in_stage_order(engine.run(query))
    # The segments' moments are listed together: one family for Holm's adjustment.
    parts = {
        str(segment): pairs
        for (segment,), part in result.group_by(["segment"], maintain_order=True)
        if (pairs := _pairs(part.drop("segment").with_columns(pl.lit(theme).alias("metric"))))
    }
    return result, dict(zip(parts, _largest_falls(list(parts.values())), strict=True))


def _in_stage_order(result: pl.DataFrame) -> pl.DataFrame:
    """Keep the ordered stages only: "Not reported" has no place in a journey."""
    return result.filter(pl.col("journey_stage").is_in(STAGES))
