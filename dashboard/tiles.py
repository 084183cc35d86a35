"""KPI tiles: value, change on the previous quarter and whether it is beyond noise, target, sparkline."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, exhibits
from metrics.analyses.kpis import Tile, describe_tile, tile_value
from metrics.catalog import Metric
from metrics.formatting import (
    NOT_APPLICABLE,
    NOT_ASKED,
    format_delta,
    format_statistic,
    format_value,
    rounds_to_zero,
)

_DELTA_COLOURS = {"higher_is_better": "normal", "lower_is_better": "inverse", "neutral": "off"}


def show(tile: Tile, column: st.delta_generator.DeltaGenerator, note: str = "") -> None:
    """Draw one tile in `column`, with a `note` under its lines (e.g. that it is internal only)."""
    metric = tile.metric
    delta = format_delta(tile.change.delta, metric.format) if tile.change.delta is not None else None
    # A measure that does not apply to the view gets no line either: it would be as meaningless.
    history = [(q, v) for q, v in tile.history if v is not None] if tile.state != NOT_APPLICABLE else []
    with column.container(border=True):
        st.metric(
            metric.label,
            tile_value(tile),
            delta=delta,
            # Colour says "beyond noise": a change within noise is drawn grey, whichever way it goes.
            delta_color=_DELTA_COLOURS[metric.direction] if tile.change.significant else "off",  # type: ignore[arg-type]
            help=metric.description,
            # No arrow on a change that shows as none (0.0 pts): an up arrow would say it rose.
            delta_arrow="off" if delta is not None and rounds_to_zero(delta) else "auto",
        )
        if len(history) > 1:
            # Our own sparkline rather than st.metric's: it carries a text alternative for screen readers.
            exhibits.plot(
                charts.sparkline(history, metric),
                f"{metric.label} over the last {len(history)} quarters: "
                + ", ".join(f"{q} {format_value(v, metric.format)}" for q, v in history),
            )
        lines = [*describe_tile(tile), *([note] if note else [])]
        st.caption("  \n".join(lines))


def unavailable(metric: Metric, error: Exception, column: st.delta_generator.DeltaGenerator) -> None:
    """Draw the tile of a metric that cannot be computed, saying why, in place of its value."""
    with column.container(border=True):
        st.metric(metric.label, "unavailable", help=metric.description)
        # Plain text: the reason quotes file names and values from the data.
        st.text(f"{error}\nMetrics and data lists every problem.")


def history_table(shown: list[Tile]) -> pl.DataFrame:
    """Return the numbers behind the tiles' sparklines: one row per quarter, one column per tile."""
    quarters = [q for q, _ in shown[0].history] if shown else []
    table: dict[str, list[str]] = {"Quarter": quarters}
    for tile in shown:
        table[tile.metric.label] = [
            NOT_ASKED
            if q in tile.unasked_quarters
            else format_statistic(v, q in tile.hidden_quarters, tile.metric.format)
            for q, v in tile.history
        ]
    return pl.DataFrame(table)


def history_numbers(shown: list[Tile]) -> pl.DataFrame:
    """Return the same as history_table with the values as computed, a measure and quarter a row: the
    value null where hidden (`suppressed`), not asked (`not_asked`) or without data, which its exports
    write apart."""
    return pl.DataFrame(
        [
            {
                "quarter": q, "measure": t.metric.name, "value": v,
                "suppressed": q in t.hidden_quarters, "not_asked": q in t.unasked_quarters,
            }
            for t in shown
            for q, v in t.history
        ],
        schema={
            "quarter": pl.String, "measure": pl.String, "value": pl.Float64,
            "suppressed": pl.Boolean, "not_asked": pl.Boolean,
        },
    )  # fmt: skip
