"""Equity and segment views: each group of a dimension against the overall, its gap in points and
whether the gap is beyond noise; the four headline themes across the groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from metrics.analyses.breaks import as_asked
from metrics.compare import adjusted, gaps_of
from metrics.measures import THEME_METRICS
from metrics.query import Engine, Filters


@dataclass(frozen=True)
class Breakdown:
    """A metric by the groups of one dimension, against the overall of the people they are drawn from
    (the page filters, narrowed to one group of another dimension when asked)."""

    metric: str
    dimension: str
    overall: dict[str, Any]
    groups: pl.DataFrame  # dimension, value, n, ci_low, ci_high, suppressed, gap, z, p (Holm), beyond_noise
    ignored_filters: tuple[str, ...]


def breakdown(
    engine: Engine, name: str, dimension: str, filters: Filters, within: Sequence[tuple[str, str]] = ()
) -> Breakdown:
    """Return each group of `dimension` (among rows matching `within`) against the overall of the same
    rows: `filters` narrowed by `within`."""
    return breakdowns(engine, (name,), dimension, filters, within)[0]


def breakdowns(
    engine: Engine,
    names: Sequence[str],
    dimension: str,
    filters: Filters,
    within: Sequence[tuple[str, str]] = (),
) -> list[Breakdown]:
    """Return `breakdown` of each metric of `names`, their questions answered side by side; a gap is
    beyond noise when it stays so after Holm's adjustment over every group of every metric asked."""
    narrowed = {d: v for d, v in within}
    asked = []
    for name in names:
        # The groups are compared with the people they are drawn from: everyone `within` narrows to.
        overall_query, ignored = engine.applicable(filters.query(name, where=narrowed))
        group_query, _ = engine.applicable(filters.query(name, by=[dimension], where=narrowed))
        asked.append((name, ignored, overall_query, group_query))
    results = engine.run_many([q for _, _, overall, group in asked for q in (overall, group)])
    tested = []
    for i, (name, _, _, _) in enumerate(asked):
        overall, result = results[2 * i].row(0, named=True), results[2 * i + 1]
        metric = engine.metric(name)
        smallest = engine.threshold(metric)
        tested.append(
            (
                overall,
                result,
                gaps_of([(row, overall) for row in result.iter_rows(named=True)], metric.aggregate, smallest),
            )
        )
    # The groups of every metric asked together are shown together (a heat map): one family.
    family = iter(adjusted([g for _, _, gaps in tested for g in gaps]))
    found = []
    for (name, ignored, _, _), (overall, result, raw) in zip(asked, tested, strict=True):
        gaps = [next(family) for _ in raw]
        groups = result.with_columns(
            pl.Series("gap", [g.delta for g in gaps], dtype=pl.Float64),
            pl.Series("z", [g.z for g in gaps], dtype=pl.Float64),
            pl.Series("p", [g.p for g in gaps], dtype=pl.Float64),
            pl.Series("beyond_noise", [g.significant for g in gaps], dtype=pl.Boolean),
        )
        found.append(Breakdown(name, dimension, overall, groups, ignored))
    return found


def theme_grid(
    engine: Engine, dimension: str, filters: Filters, within: Sequence[tuple[str, str]] = ()
) -> pl.DataFrame:
    """Return one row per group and theme: value, n, suppressed, gap and whether it is beyond noise.
    Trust is on the scale the view's surveys asked it (`as_asked`), its `metric` saying which."""
    themes = as_asked(engine, THEME_METRICS, filters, dict(within))
    frames = []
    for name, found in zip(themes, breakdowns(engine, themes, dimension, filters, within), strict=True):
        part = found.groups
        frames.append(
            part.select(dimension, "value", "n", "suppressed", "gap", "beyond_noise").with_columns(
                pl.lit(name).alias("metric")
            )
        )
    return pl.concat(frames)
