"""Metrics and data: what does each number mean, where does it come from, how fresh is the data?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, exhibits, state
from dashboard.filters import current
from metrics.errors import CxError
from metrics.formatting import format_value


def render() -> None:
    """Draw the page."""
    exhibits.title("What do the numbers mean? Metrics and data sources")
    engine = data.engine()
    filters = current()
    search = (
        state.text("Search the metrics", "q", placeholder="e.g. wait, trust, self-service").strip().lower()
    )
    metrics = [
        m
        for m in engine.catalog.metrics.values()
        if not search
        or any(search in text.lower() for text in (m.name, m.label, m.description, m.theme, m.owner))
    ]
    st.caption(
        f"{len(metrics)} of {len(engine.catalog.metrics)} metrics. Latest values are for {filters.end} under the "
        "sidebar filters. Each metric is one SQL file in sql/metrics/."
    )
    for metric in metrics:
        with st.expander(f"{metric.label} · {metric.theme}"):
            try:
                tile = data.tile(metric.name, filters, filters.end or "")
                latest = format_value(tile.current["value"], metric.format)
            except CxError as error:
                latest = f"unavailable: {error}"
            st.markdown(
                f"{metric.description}\n\n"
                f"- **Latest ({filters.end}):** {latest}\n"
                f"- **Name:** `{metric.name}` · **theme:** {metric.theme} · **unit:** {metric.unit} · "
                f"**direction:** {metric.direction.replace('_', ' ')} · **statistic:** {metric.aggregate}\n"
                f"- **Target:** {format_value(metric.target, metric.format) if metric.target is not None else 'none'}"
                f" · **owner:** {metric.owner}\n"
                f"- **Reads:** {', '.join(sorted(engine.inputs(metric)))}"
            )
            st.code(metric.sql, language="sql")

    st.header("Data sources")
    rows = data.coverage()
    labels = data.channel_labels()
    sources = pl.DataFrame(
        {
            "Input": [r.input for r in rows],
            "File": [r.source for r in rows],
            "Rows": [f"{r.rows:,}" for r in rows],
            "From": [r.first_quarter or "none" for r in rows],
            "To": [r.last_quarter or "none" for r in rows],
            "Last modified": [
                r.modified.strftime("%Y-%m-%d %H:%M") if r.modified else "missing" for r in rows
            ],
            "Problems": [str(r.problems) for r in rows],
            "Services": [", ".join(r.services) for r in rows],
            "Channels": [", ".join(labels.get(c, c) for c in r.channels) for r in rows],
        }
    )
    exhibits.table("Data sources", sources)
    if any(r.problems for r in rows):
        st.warning("Some inputs break the data contract: run `cx check` for every problem.")


render()
