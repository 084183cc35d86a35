"""Overview: is trust up? The headline KPIs of the quarter and what changed most."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, tiles
from dashboard.filters import current, describe
from metrics.formatting import format_delta, format_value, suppression_note
from metrics.kpis import quarters_back

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
    responses = data.tile("responses", filters, quarter)
    rate = data.tile("response_rate", filters, quarter)
    st.markdown(
        f"**{format_value(responses.current['value'], 'integer')} responses** in {quarter}; "
        f"response rate **{format_value(rate.current['value'], 'percent')}** of customers offered the survey"
        + (" (all segments: collections have no segment)." if rate.ignored_filters else ".")
    )
    shown = [data.tile(name, filters, quarter) for name in HEADLINE]
    for row in (shown[:3], shown[3:]):
        for tile, column in zip(row, st.columns(3), strict=True):
            tiles.show(tile, column)
    with st.expander("Numbers behind the eight-quarter lines"):
        st.dataframe(tiles.history_table(shown), hide_index=True, width="stretch")

    st.header("What changed this quarter")
    moves = data.largest_moves(THEMES, ("service", "segment"), filters, quarter)
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
