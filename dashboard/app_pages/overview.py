"""Overview: is trust up? The headline KPIs of the quarter and what changed most."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, tiles
from dashboard.filters import current, describe
from metrics.formatting import format_delta, format_value, suppression_note
from metrics.kpis import Tile, quarters_back

HEADLINE = ("trust", "ease", "effectiveness", "emotion", "wait_median", "self_service_rate")
THEMES = ("trust", "ease", "effectiveness", "emotion")


def render() -> None:
    """Draw the page."""
    filters = current()
    quarter = filters.end
    if quarter is None:
        st.error("No data found. Run `cx check` to see what is wrong with the inputs.")
        return
    st.title(f"Is trust up? Customer experience in {quarter}")
    st.caption(
        f"{describe(filters)}. Tiles show {quarter} against {quarters_back(quarter, 1)}; services are pooled "
        "response-weighted (every response counts once). Lines under each value are the last eight quarters."
    )
    responses = data.tile_or_problem("responses", filters, quarter)
    rate = data.tile_or_problem("response_rate", filters, quarter)
    if isinstance(responses, Tile) and isinstance(rate, Tile):
        st.markdown(
            f"**{format_value(responses.current['value'], 'integer')} responses** in {quarter}; "
            f"response rate **{format_value(rate.current['value'], 'percent')}** of customers offered the survey"
            + (" (all segments: collections have no segment)." if rate.ignored_filters else ".")
        )
    results = [data.tile_or_problem(name, filters, quarter) for name in HEADLINE]
    for names, row in ((HEADLINE[:3], results[:3]), (HEADLINE[3:], results[3:])):
        for name, tile, column in zip(names, row, st.columns(3), strict=True):
            if isinstance(tile, Tile):
                tiles.show(tile, column)
            else:
                tiles.unavailable(data.metric(name), tile, column)
    shown = [t for t in results if isinstance(t, Tile)]
    with st.expander("Numbers behind the eight-quarter lines"):
        st.dataframe(tiles.history_table(shown), hide_index=True, width="stretch")

    st.header("What changed this quarter")
    themes = tuple(
        name
        for name, tile in zip(HEADLINE, results, strict=True)
        if name in THEMES and isinstance(tile, Tile)
    )
    moves = data.largest_moves(themes, ("service", "segment"), filters, quarter) if themes else []
    if not moves:
        st.info(
            f"No service or segment moved beyond sampling noise between {quarters_back(quarter, 1)} and {quarter}."
        )
    else:
        st.caption(
            "The largest moves beyond sampling noise (95% level) across services and customer segments."
        )
        st.dataframe(
            pl.DataFrame(
                {
                    "Measure": [m.metric.label for m in moves],
                    "Group": [f"{m.dimension.replace('_', ' ').capitalize()}: {m.group}" for m in moves],
                    quarters_back(quarter, 1): [format_value(m.previous, m.metric.format) for m in moves],
                    quarter: [format_value(m.current, m.metric.format) for m in moves],
                    "Change": [format_delta(m.difference.delta, m.metric.format) for m in moves],
                    "Direction": ["up" if (m.difference.delta or 0) > 0 else "down" for m in moves],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    st.caption(suppression_note(data.engine().min_n))


render()
