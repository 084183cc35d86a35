"""Customer journeys: a service's stages in order (learn, apply, wait, decision, follow-up) with the
four theme scores and the responses behind each, the moment that matters (the stage where the
experience drops most from the stage before) and the lowest stage."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from metrics.contract import JOURNEY_STAGES, NOT_REPORTED
from metrics.measures import THEME_METRICS
from metrics.query import Engine, Filters

STAGES = tuple(s for s in JOURNEY_STAGES if s != NOT_REPORTED)


@dataclass(frozen=True)
class Moment:
    """The stage with the largest drop in the average theme score from the stage before it."""

    stage: str
    previous: str
    drop: float  # in share points (0.05 = 5 points), positive when the experience got worse


@dataclass(frozen=True)
class Journey:
    """One service's journey under the page filters."""

    service: str
    scores: pl.DataFrame  # journey_stage, metric, value, n, ci_low, ci_high, suppressed (stages in order)
    responses: dict[str, int | None]  # stage -> responses (None when hidden)
    moment: Moment | None
    ignored_filters: tuple[str, ...]
    lowest: tuple[str, float] | None = None  # the stage with the lowest average theme score, and it

    @property
    def empty(self) -> bool:
        """True when no stage has a score to show: nothing to conclude from."""
        return not self.scores.filter(~pl.col("suppressed") & pl.col("value").is_not_null()).height


def journey(engine: Engine, service: str, filters: Filters) -> Journey:
    """Return the theme scores per stage of `service`, its responses per stage and the moment that matters."""
    ignored: tuple[str, ...] = ()
    queries = []
    for name in (*THEME_METRICS, "responses"):
        query, dropped = engine.applicable(
            filters.query(name, by=["journey_stage"], where={"service": service})
        )
        ignored += dropped if name in THEME_METRICS else ()
        queries.append(query)
    *themes, counted = [_in_stage_order(result) for result in engine.run_many(queries)]
    frames = [
        f.with_columns(pl.lit(name).alias("metric")) for name, f in zip(THEME_METRICS, themes, strict=True)
    ]
    scores = pl.concat(
        [f.select("journey_stage", "metric", "value", "n", "ci_low", "ci_high", "suppressed") for f in frames]
    )
    responses = {
        row["journey_stage"]: (None if row["suppressed"] else row["n"])
        for row in counted.iter_rows(named=True)
    }
    return Journey(
        service,
        scores,
        responses,
        moment_that_matters(scores),
        tuple(dict.fromkeys(ignored)),
        lowest_stage(scores),
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


def lowest_stage(scores: pl.DataFrame) -> tuple[str, float] | None:
    """Return the stage whose average of the themes shown there is lowest, and that average."""
    shown = scores.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
    averages = shown.group_by("journey_stage").agg(pl.col("value").mean()).sort(["value", "journey_stage"])
    return (str(averages["journey_stage"][0]), float(averages["value"][0])) if averages.height else None


def moment_that_matters(scores: pl.DataFrame) -> Moment | None:
    """Return the stage whose average theme score falls most from the stage before it, comparing only
    themes shown at both stages; None when no stage falls."""
    shown = scores.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
    values = {(r["journey_stage"], r["metric"]): float(r["value"]) for r in shown.iter_rows(named=True)}
    present = [s for s in STAGES if any(stage == s for stage, _ in values)]
    best: Moment | None = None
    for previous, stage in itertools.pairwise(present):
        common = [m for m in THEME_METRICS if (previous, m) in values and (stage, m) in values]
        if not common:
            continue
        drop = sum(values[(previous, m)] - values[(stage, m)] for m in common) / len(common)
        if drop > 0 and (best is None or drop > best.drop):
            best = Moment(stage, previous, drop)
    return best


def by_segment(
    engine: Engine, service: str, theme: str, filters: Filters
) -> tuple[pl.DataFrame, dict[str, Moment | None]]:
    """Return one theme by segment and stage for `service`, and each segment's moment that matters on
    that theme, so segments' journeys can be compared."""
    query, _ = engine.applicable(
        filters.query(theme, by=["segment", "journey_stage"], where={"service": service})
    )
    result = _in_stage_order(engine.run(query))
    moments = {
        segment: moment_that_matters(part.drop("segment").with_columns(pl.lit(theme).alias("metric")))
        for (segment,), part in result.group_by(["segment"], maintain_order=True)
    }
    return result, moments


def _in_stage_order(result: pl.DataFrame) -> pl.DataFrame:
    """Keep the ordered stages only: "Not reported" has no place in a journey."""
    return result.filter(pl.col("journey_stage").is_in(STAGES))
