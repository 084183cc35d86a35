"""Equity and segments: where are we failing whom? Each group against the overall, with gaps."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data, exhibits, parts, state, tables
from dashboard.filters import current, describe
from metrics.analyses.equity import Breakdown
from metrics.analyses.kpis import reading_order
from metrics.catalog import Metric
from metrics.compare import FAMILY_NOTE
from metrics.dimensions import DIMENSIONS, EQUITY_DIMENSIONS, phrase
from metrics.formatting import NOT_ASKED, format_statistic, format_value, listed, suppression_note
from metrics.measures import THEME_METRICS
from metrics.query import Filters

NOBODY = "none"
GROUPINGS = (*EQUITY_DIMENSIONS, "segment", "journey_stage", "channel", "service")


def render() -> None:
    """Draw the page."""
    exhibits.title("Where are we failing whom? Equity and customer segments")
    filters = current()
    engine = data.engine()
    names = reading_order([m for m in engine.catalog.metrics.values() if "age_band" in engine.dimensions(m)])
    columns = st.columns(4)
    with columns[0]:
        # Trust as the view's surveys asked it (thumbs up or down where they asked no other), unless no
        # survey answer can be read.
        opening = data.opening_measure(tuple(names), filters)
        name = state.select("Measure", names, "metric", default=opening, format_func=data.choice)
    metric = data.metric(name)
    with columns[1]:
        dimension = state.select("Break down by", GROUPINGS, "by", default="age_band", format_func=_label)
    with columns[2]:
        within_dimension = state.select(
            "Only people with",
            [NOBODY, *(d for d in GROUPINGS if d != dimension)],
            "within",
            default=NOBODY,
            format_func=lambda d: "Everyone" if d == NOBODY else _label(d),
            help="Narrow the groups to one value of another dimension, e.g. age band 65+.",
        )
    within: tuple[tuple[str, str], ...] = ()
    if within_dimension != NOBODY:
        # The groups the measure's data holds. Read from the survey answers, the list offered a wait's
        # channels as the surveys had them, and failed where there are none (no responses file).
        values = list(data.groups(within_dimension, name))
        with columns[3]:
            value = state.select(
                _label(within_dimension),
                values,
                "value",
                default=values[0] if values else None,
                format_func=data.channel_label if within_dimension == "channel" else str,
            )
        within = ((within_dimension, str(value)),)

    result = data.breakdown(name, dimension, filters, within)
    overall = result.overall
    who, population = "", "everyone in the view"
    if within:
        shown = data.channel_label(within[0][1]) if within[0][0] == "channel" else within[0][1]
        words = phrase(within[0][0], within[0][1], shown)
        who, population = f", customers {words}", f"all customers {words}"
    if result.groups.is_empty() and not overall["suppressed"] and overall["value"] is None:
        # No answers at all: why (not asked, asked on its other scale, none) rather than an overall of
        # "no data (n = 0)".
        none = f"No {data.metric(name).label.lower()} answers by {_label(dimension).lower()} in this view."
        st.info(data.why_empty(name, filters, none))
    else:
        _breakdown(result, name, dimension, who, population, filters)
    st.header(f"The four themes by {_label(dimension).lower()}")
    with parts.part("The four themes"):
        _theme_grid(dimension, filters, within, who, engine.threshold(metric))


def _breakdown(
    result: Breakdown, name: str, dimension: str, who: str, population: str, filters: Filters
) -> None:
    """The chosen measure's groups against the overall, or why there are none to show."""
    engine, metric, overall, scope = data.engine(), data.metric(name), result.overall, describe(filters)
    st.markdown(
        f"**{metric.label}** by {_label(dimension).lower()}{state.inert(who)}, against the overall "
        f"**{format_statistic(overall['value'], overall['suppressed'], metric.format)}** for "
        f"{state.inert(population)} (n = {format_statistic(overall['n'], overall['suppressed'], 'integer')}) "
        f"in {scope}."
    )
    groups = data.labelled(result.groups)
    threshold = engine.threshold(metric)
    unshown = tables.unshown(
        groups, f"{metric.label.lower()} answers by {_label(dimension).lower()}", threshold
    )
    if unshown:
        # Nothing to draw or compare: no chart of empty axes, no "no group differs" from no groups.
        st.info(unshown)
    else:
        _groups(result, groups, dimension, metric, who, threshold)
    if result.ignored_filters:
        st.caption(
            f"Not filtered by {', '.join(result.ignored_filters)}: this measure's data has no such column."
        )


def _theme_grid(
    dimension: str, filters: Filters, within: tuple[tuple[str, str], ...], who: str, threshold: int
) -> None:
    """The four themes by the chosen dimension as a heat map, or why there is none to show."""
    computed = data.theme_grid(dimension, filters, within)
    grid = data.labelled(computed)
    themes = data.as_asked(THEME_METRICS, filters, within)
    labels = {n: data.metric(n).label for n in themes}
    unshown = tables.unshown(grid, f"answers on the four themes by {_label(dimension).lower()}", threshold)
    if unshown:
        st.info(unshown)
    else:
        exhibits.chart(
            f"The four themes by {_label(dimension).lower()}{who}",
            charts.heatmap(grid, dimension, labels),
            _grid_table(grid, dimension, labels),
            _grid_alt(grid, dimension, labels),
            numbers=computed,
            metrics=themes,
            table_title="Numbers behind the heat map",
        )
    st.caption(suppression_note(threshold))


def _groups(
    result: Breakdown, groups: pl.DataFrame, dimension: str, metric: Metric, who: str, threshold: int
) -> None:
    """Each group against the overall: the chart, its gaps beyond noise in words, the hidden groups."""
    exhibits.chart(
        f"{metric.label} by {_label(dimension).lower()}{who}",
        charts.groups(groups, dimension, metric, result.overall["value"]),
        tables.readable(groups, metric, [dimension]),
        _alt_text(groups, dimension, metric),
        numbers=result.groups,
        metrics=[metric.name],
    )
    st.markdown(tables.gaps_in_words(groups, dimension, metric))
    st.caption(FAMILY_NOTE)
    hidden = groups.filter(pl.col("suppressed"))[dimension].to_list()
    if hidden:
        st.markdown(
            f"**Hidden:** {state.inert(', '.join(map(str, hidden)))}: fewer than {threshold} responses †."
        )


def _label(dimension: str) -> str:
    return DIMENSIONS[dimension].label


def _alt_text(groups: pl.DataFrame, dimension: str, metric: Metric) -> str:
    parts = [
        f"{row[dimension]} {format_value(row['value'], metric.format) if not row['suppressed'] else 'hidden'}"
        for row in groups.iter_rows(named=True)
    ]
    return (
        f"Dot chart of {metric.label} by {_label(dimension).lower()} with 95% intervals: "
        + "; ".join(parts)
        + "."
    )


def _grid_table(grid: pl.DataFrame, dimension: str, labels: dict[str, str]) -> pl.DataFrame:
    groups = list(dict.fromkeys(grid[dimension].to_list()))
    table: dict[str, list[str]] = {_label(dimension): [str(g) for g in groups]}
    for name, label in labels.items():
        cells = {row[dimension]: row for row in grid.filter(pl.col("metric") == name).iter_rows(named=True)}
        table[label] = [
            # A group is listed for answering some theme: one it has no row of, its surveys did not ask.
            format_statistic(cells[g]["value"], cells[g]["suppressed"], "percent")
            if g in cells
            else NOT_ASKED
            for g in groups
        ]
    return pl.DataFrame(table)


def _grid_alt(grid: pl.DataFrame, dimension: str, labels: dict[str, str]) -> str:
    # Drawn only with a cell shown (_unshown): the lowest of them is there to name.
    row = grid.filter(~pl.col("suppressed") & pl.col("value").is_not_null()).sort("value").row(0, named=True)
    return (
        f"Heat map of {listed([v.lower() for v in labels.values()])} by {_label(dimension).lower()}; the "
        "lowest cell is "
        f"{labels[row['metric']]} for {row[dimension]} at {format_value(row['value'], 'percent')}. "
        "The table below lists every cell."
    )


render()
