"""Trends: how has a measure moved? Any metric by quarter or month with its 95% interval band."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data, exhibits, state, tables
from dashboard.filters import current, describe
from metrics.analyses.kpis import reading_order
from metrics.contract import A11_ITEMS
from metrics.dimensions import DIMENSIONS
from metrics.errors import CxError
from metrics.events import Event, events_in
from metrics.fiscal import FiscalQuarter
from metrics.formatting import format_value, suppression_note
from metrics.query import Filters

GRAIN_LABELS = {"fiscal_quarter": "Fiscal quarter", "month": "Month"}
NO_SPLIT = "none"


def render() -> None:
    """Draw the page."""
    exhibits.title("How has it moved? Trends over time")
    filters = current()
    engine = data.engine()
    names = reading_order(list(engine.catalog.metrics.values()))
    # Trust as the view's surveys asked it (thumbs up or down where they asked no other), unless no
    # survey answer can be read.
    opening = data.opening_measure(tuple(names), filters)
    name = state.select("Measure", names, "metric", default=opening, format_func=data.choice)
    metric = data.metric(name)
    dimensions = engine.dimensions(metric)
    grains = [g for g in GRAIN_LABELS if g in dimensions]
    left, right = st.columns(2)
    with left:
        grain = state.select(
            "Period", grains, "grain", default="fiscal_quarter", format_func=GRAIN_LABELS.__getitem__
        )
    with right:
        splits = [NO_SPLIT, *(d for d in dimensions if DIMENSIONS[d].kind != "time")]
        split = state.select(
            "Split by",
            splits,
            "split",
            default=NO_SPLIT,
            format_func=lambda d: "No split" if d == NO_SPLIT else DIMENSIONS[d].label,
        )
    by_split = None if split == NO_SPLIT else split
    frame, ignored = data.series(name, filters, grain, by_split)
    if frame.is_empty():
        st.info(data.why_empty(name, filters))
        return
    # A wording change is marked on the item it affects; a change of the channels or survey versions
    # behind a measure (its population) on that measure.
    changes = data.wording_changes(filters, (name,)) if name in A11_ITEMS else []
    moved = data.population_breaks(name, filters)
    marks = [
        (
            quarter if grain == "fiscal_quarter" else FiscalQuarter.parse(quarter).start.strftime("%Y-%m"),
            text,
        )
        for quarter, text in [
            *((c.quarter, c.describe()) for c in changes),
            *((b.quarter, b.describe()) for b in moved),
        ]
    ]
    st.caption(f"{metric.description} {describe(filters)}.")
    # Every point hidden: an empty chart under a caption counting hidden points said less than a line.
    every = f"{metric.label.lower()} figures by {GRAIN_LABELS[grain].lower()}" + (
        f" and {DIMENSIONS[by_split].label.lower()}" if by_split else ""
    )
    if nothing := tables.unshown(frame, every, engine.threshold(metric)):
        st.info(nothing)
        _where_it_stops(name, filters, grain, by_split)
        st.caption(suppression_note(engine.threshold(metric)))
        return
    happened = _events(filters, grain)
    columns = [grain, *([by_split] if by_split else [])]
    shown = data.labelled(frame)
    exhibits.chart(
        f"{metric.label} by {GRAIN_LABELS[grain].lower()}"
        + (f" and {DIMENSIONS[by_split].label.lower()}" if by_split else ""),
        charts.trend(
            shown, metric, grain, by_split, marks, [(p, e.text) for p, e in happened], metric.target
        ),
        tables.readable(shown, metric, columns),
        _alt_text(frame, metric, grain, by_split),
        numbers=frame,
        metrics=[name],
    )
    if metric.target is not None:
        st.caption(f"Dotted line: the target, {format_value(metric.target, metric.format)}.")
    if happened:
        st.markdown("**Events** (solid lines): " + " ".join(f"{p}: {e.text}." for p, e in happened))
    if changes:
        st.markdown("**Question changes** (dashed lines): " + " ".join(f"{c.describe()}." for c in changes))
    if moved:
        st.markdown(
            "**Who was asked changed** (dashed lines), so a change across these quarters is not like for "
            "like: " + " ".join(f"{b.describe()}." for b in moved)
        )
    _where_it_stops(name, filters, grain, by_split)
    hidden = frame.filter(pl.col("suppressed"))
    if hidden.height:
        st.caption(
            f"{hidden.height} point(s) hidden for privacy are left out of the chart and marked † in the table."
        )
    if ignored:
        st.caption(f"Not filtered by {', '.join(ignored)}: this measure's data has no such column.")
    st.caption(suppression_note(engine.threshold(metric)))


def _where_it_stops(name: str, filters: Filters, grain: str, split: str | None) -> None:
    """Say where a quarterly line without a split stops having data, and why, if it does."""
    if grain == "fiscal_quarter" and not split and filters.end:
        stops = data.where_it_stops(name, filters)
        if stops:
            st.caption(stops)


def _events(filters: Filters, grain: str) -> list[tuple[str, Event]]:
    """Return the events of the filtered services within the period, each at its quarter or month; a
    bad events file is named in a warning and the page goes on without events."""
    try:
        found = data.events()
    except CxError as error:
        st.warning(f"Events are not shown: {error}")
        return []
    shown = events_in(found, dict(filters.where).get("service", ()), filters.start, filters.end)
    return [(e.quarter if grain == "fiscal_quarter" else e.date.strftime("%Y-%m"), e) for e in shown]


def _alt_text(frame: pl.DataFrame, metric: object, grain: str, split: str | None) -> str:
    from metrics.catalog import Metric

    assert isinstance(metric, Metric)
    shown = frame.filter(~pl.col("suppressed"))
    if shown.is_empty():
        return f"{metric.label}: every point is hidden for privacy."
    first, last = shown.row(0, named=True), shown.row(-1, named=True)
    text = (
        f"Line chart of {metric.label} by {GRAIN_LABELS[grain].lower()}, from {first[grain]} "
        f"({format_value(first['value'], metric.format)}) to {last[grain]} ({format_value(last['value'], metric.format)})"
    )
    if split:
        text += f", one line per {DIMENSIONS[split].label.lower()}"
    return text + ". The table below the chart lists every point."


render()
