"""Overview: is trust up? The headline KPIs of the quarter and what changed most."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, exhibits, tiles
from dashboard.briefing import Figure
from dashboard.filters import current, describe
from metrics.analyses.kpis import HEADLINE, THEME_METRICS, Tile, describe_tile, quarters_back, tile_value
from metrics.compare import FAMILY_NOTE
from metrics.formatting import format_delta, format_value, suppression_note


def render() -> None:
    """Draw the page."""
    filters = current()
    quarter = filters.end
    if quarter is None:
        st.error("No data found. Run `cx check` to see what is wrong with the inputs.")
        return
    exhibits.title(f"Is trust up? Customer experience in {quarter}")
    # The answer first, in a sentence a leader can repeat; the tiles below carry the detail.
    st.markdown(f"**{data.answer(filters, quarter)}**")
    st.caption(
        f"{describe(filters)}. Tiles show {quarter} against {quarters_back(quarter, 1)}; services are pooled "
        "response-weighted (every response counts once). Lines under each value are the last eight quarters."
    )
    responses, rate, *results = data.tiles_or_problems(
        ("responses", "response_rate", *HEADLINE), filters, quarter
    )
    if isinstance(responses, Tile) and isinstance(rate, Tile):
        st.markdown(
            f"**{format_value(responses.current['value'], 'integer')} responses** in {quarter}; "
            f"response rate **{format_value(rate.current['value'], 'percent')}** of customers offered the survey"
            + (" (all segments: collections have no segment)." if rate.ignored_filters else ".")
        )
    for names, row in ((HEADLINE[:3], results[:3]), (HEADLINE[3:], results[3:])):
        for name, tile, column in zip(names, row, st.columns(3), strict=True):
            if isinstance(tile, Tile):
                tiles.show(tile, column)
            else:
                tiles.unavailable(data.metric(name), tile, column)
    shown = [t for t in results if isinstance(t, Tile)]
    exhibits.figures([Figure(t.metric.label, tile_value(t), " ".join(describe_tile(t))) for t in shown])
    with st.expander("Numbers behind the eight-quarter lines"):
        exhibits.table(
            "The last eight quarters",
            tiles.history_table(shown),
            numbers=tiles.history_numbers(shown),
            metrics=[t.metric.name for t in shown],
        )

    st.header("What changed this quarter")
    themes = tuple(
        name
        for name, tile in zip(HEADLINE, results, strict=True)
        if name in THEME_METRICS and isinstance(tile, Tile)
    )
    moves = data.largest_moves(themes, ("service", "segment"), filters, quarter) if themes else []
    if not moves:
        st.info(
            f"No service or segment moved beyond sampling noise between {quarters_back(quarter, 1)} and {quarter}."
        )
    else:
        st.caption(
            "The largest moves beyond sampling noise (95% level) across services and customer segments. "
            + FAMILY_NOTE
        )
        exhibits.table(
            "What changed this quarter",
            pl.DataFrame(
                {
                    "Measure": [m.metric.label for m in moves],
                    "Group": [f"{m.dimension.replace('_', ' ').capitalize()}: {m.group}" for m in moves],
                    quarters_back(quarter, 1): [format_value(m.previous, m.metric.format) for m in moves],
                    quarter: [format_value(m.current, m.metric.format) for m in moves],
                    "Change": [format_delta(m.difference.delta, m.metric.format) for m in moves],
                    "Direction": ["up" if (m.difference.delta or 0) > 0 else "down" for m in moves],
                    "Compared": [m.basis.note or "all respondents in both quarters" for m in moves],
                }
            ),
            numbers=pl.DataFrame(
                {
                    "metric": [m.metric.name for m in moves],
                    "dimension": [m.dimension for m in moves],
                    "group": [m.group for m in moves],
                    "previous_quarter": [quarters_back(quarter, 1)] * len(moves),
                    "previous": [m.previous for m in moves],
                    "quarter": [quarter] * len(moves),
                    "current": [m.current for m in moves],
                    "change": [m.difference.delta for m in moves],
                    "z": [m.difference.z for m in moves],
                    "p_holm": [m.difference.p for m in moves],
                    "test": [m.difference.test for m in moves],
                    "basis": [m.basis.note for m in moves],
                }
            ),
            metrics=THEME_METRICS,
        )
    st.caption(suppression_note(data.engine().min_n))


render()
