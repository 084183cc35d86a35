"""Metrics and data: what does each number mean, where does it come from, how fresh is the data?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, exhibits, state
from dashboard.filters import current
from metrics.analyses.kpis import tile_value
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
    metrics = sorted(
        (
            m
            for m in engine.catalog.metrics.values()
            if not search
            or any(search in text.lower() for text in (m.name, m.label, m.description, m.theme, m.owner))
        ),
        key=lambda m: m.label.lower(),  # as a reader looks for them: by label
    )
    st.caption(
        f"{len(metrics)} of {len(engine.catalog.metrics)} metrics. Latest values are for {filters.end} under the "
        "sidebar filters. Each metric is one SQL file in sql/metrics/."
    )
    # Every metric's tile at once, whatever the search: computed side by side, and a search reuses them.
    names = tuple(sorted(engine.catalog.metrics))
    found = dict(zip(names, data.tiles_or_problems(names, filters, filters.end or ""), strict=True))
    for metric in metrics:
        with st.expander(f"{metric.label} · {metric.theme}"):
            tile = found[metric.name]
            latest = f"unavailable: {tile}" if isinstance(tile, CxError) else tile_value(tile)
            if not isinstance(tile, CxError) and tile.note:  # not asked or not applicable: why, in words
                latest += f". {tile.note}"
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

    left_out = data.metric_problems()
    if left_out:
        files = sorted({p.source for p in left_out})
        st.header("Metric files left out")
        st.warning(
            f"{len(files)} metric file{'s' if len(files) != 1 else ''} in sql/metrics/ "
            f"{'are' if len(files) != 1 else 'is'} left out of every page until fixed; "
            "`cx check` lists the same problems.",
            icon=":material/block:",
        )
        # A table, not Markdown: a problem quotes the file, and a file's text is never formatted.
        st.dataframe(
            pl.DataFrame({"File": [p.source for p in left_out], "Problem": [p.message for p in left_out]}),
            hide_index=True,
            width="stretch",
        )

    st.header("Data sources")
    if data.viewer() is not None:
        # The inputs' row counts and problems cover every service: not for someone who may see some.
        st.markdown(
            "The inputs' sizes and data-quality checks cover every service, so they are shown only to "
            "people who may see every service; `cx check` gives them to the data's owners."
        )
        return
    _sources()


def _sources() -> None:
    """The inputs' coverage and the data-quality panel."""
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
            "Rows rejected": [f"{r.rejected:,}" for r in rows],
            "Services": [", ".join(r.services) for r in rows],
            "Channels": [", ".join(labels.get(c, c) for c in r.channels) for r in rows],
        }
    )
    exhibits.table("Data sources", sources, wrap=True)

    st.header("Data quality")
    problems = data.input_problems()
    if problems:
        broken = sorted({r.input for r in rows if r.problems})
        rejected = ", ".join(f"{r.rejected:,} of {r.input}" for r in rows if r.rejected)
        unusable = ", ".join(r.input for r in rows if not r.usable)
        st.warning(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {', '.join(broken)}. "
            + (
                f"Rows left out because they break a rule: {rejected}; the other rows are served. "
                if rejected
                else ""
            )
            + (f"Not usable, so the metrics that read it are unavailable: {unusable}. " if unusable else "")
            + "The input files are only read, never changed. `cx check` lists the same problems.",
            icon=":material/report:",
        )
        exhibits.table(
            "Data quality problems",
            pl.DataFrame({"File": [p.source for p in problems], "Problem": [p.message for p in problems]}),
        )
    else:
        st.markdown("Every input meets the data contract (`cx contract` prints it).")


render()
