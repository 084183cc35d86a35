"""Charts and tables as pages show them, each with its downloads (CSV, XLSX, PNG, SVG), recorded as the
run goes so the briefing deck holds exactly what the page showed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import altair
import polars as pl
import streamlit as st
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from dashboard import data, state
from dashboard.briefing import (
    SESSION_KEY,
    XLSX,
    Briefing,
    Exhibit,
    Figure,
    csv_bytes,
    png_bytes,
    svg_bytes,
    xlsx_bytes,
)
from dashboard.filters import KEYS, current, describe
from dashboard.kept import Kept
from metrics.provenance import Provenance, data_as_of, definitions_version

# Pixels of a legend's label: an outcome's "Widest gap in ease between urban / suburban / rural groups"
# was cut at 320, and two columns of labels fit a laptop's chart at this width.
LEGEND_LABEL_LIMIT = 460


@dataclass(frozen=True)
class _Specified:
    """What st.altair_chart draws from a chart: its Vega-Lite specification (JSON, without the
    data) and its datasets (Arrow bytes by name), with the chart as drawn, pickled."""

    spec: str
    datasets: tuple[tuple[str, bytes], ...]
    drawn: bytes


# Vega-Lite specifications kept, one per chart: a run that shows the same numbers again draws from
# the kept specification.
_specs: Kept[tuple[bytes, bool], _Specified] = Kept(256)


def begin(page: str, title: str) -> None:
    """Start recording this run's exhibits; call after the sidebar filters, before the page."""
    filters = current()
    engine = data.engine()
    period = (
        "no data"
        if filters.end is None
        else (f"{filters.start} to {filters.end}" if filters.start != filters.end else filters.end)
    )
    provenance = Provenance(
        page=title,
        filters=describe(filters),
        period=period,
        data_as_of=data_as_of(data.coverage()),
        definitions=_definitions(),
        min_n=engine.min_n,
        link="",
        generated_at=datetime.now(UTC),
        release=data.internal_only(filters) if filters.end is not None else "",
    )
    st.session_state[SESSION_KEY] = Briefing(page, title, filters, engine, provenance)


@st.cache_data(show_spinner=False)
def _definitions() -> str:
    return definitions_version()


def briefing() -> Briefing:
    """Return this run's briefing so far."""
    found = st.session_state[SESSION_KEY]
    assert isinstance(found, Briefing)
    return found


def finish() -> Briefing:
    """Complete this run's briefing with the link and choices of the view; call after state.finish."""
    found = briefing()
    found.provenance = dataclasses.replace(
        found.provenance,
        link=state.link(),
        choices=state.described(leave_out=KEYS),
    )
    return found


def title(text: str, area: Any = st) -> None:
    """Draw the page title (in `area`, by default where the page is drawing); the deck's title
    slide repeats it."""
    area.title(text)
    briefing().title = text


def figures(shown: Sequence[Figure]) -> None:
    """Record the page's key figures for the deck's KPI slide (drawn by the page itself)."""
    briefing().figures = list(shown)


def chart(
    heading: str,
    drawn: Any,
    table: pl.DataFrame,
    alt: str,
    numbers: pl.DataFrame | None = None,
    metrics: Sequence[str] = (),
    table_title: str = "Numbers behind the chart",
) -> None:
    """Draw an Altair chart with its text alternative, the table of its numbers in an expander and
    its downloads. `numbers` are the computed values for the CSV (default: the table as shown)."""
    drawn = plot(drawn, alt, legend_below=True)
    exhibit = Exhibit(heading, table, table if numbers is None else numbers, drawn, alt, tuple(metrics))
    with st.expander(table_title):
        st.dataframe(table, hide_index=True, width="stretch")
    _downloads(exhibit)


def plot(chart: Any, alt: str, legend_below: bool = False) -> Any:
    """Draw an Altair chart at the width of its column, as st.altair_chart does, and return it as
    drawn (with its legends below the plot when `legend_below`)."""
    drawn, found = _specified(chart, legend_below)
    spec = json.loads(found.spec)
    spec["datasets"] = dict(found.datasets)
    st.vega_lite_chart(spec=spec, width="stretch", alt=alt)
    return drawn


def _specified(chart: Any, legend_below: bool) -> tuple[Any, _Specified]:
    """Return the chart as drawn and its specification, made once per chart (by its pickled bytes)
    with Streamlit's own conversion (its theme, the data as Arrow): converting validates the chart
    against the Vega-Lite schema and writes its data, which took most of a warm page run. Kept as
    text and bytes, a few objects for the garbage collector Streamlit runs after every run
    (tests/test_page_speed.py checks the element drawn is st.altair_chart's)."""
    pickled = pickle.dumps(chart, pickle.HIGHEST_PROTOCOL)
    key = (hashlib.blake2b(pickled).digest(), legend_below)
    found = _specs.get(key)
    if found is not None:
        return (pickle.loads(found.drawn) if legend_below else chart), found
    # Legends go under the plot, so on a phone the plot keeps the width a side legend would take. The
    # plot keeps its height too, the legend below it: fitted into the chart's height as a whole, a
    # trend split nine ways (its legend five rows long) was squeezed to a plot of a few lines' height.
    drawn = (
        chart.configure_legend(orient="bottom", columns=2, labelLimit=LEGEND_LABEL_LIMIT).properties(
            autosize=altair.AutoSizeParams(type="fit-x", contains="padding")
        )
        if legend_below
        else chart
    )
    spec = _convert_altair_to_vega_lite_spec(drawn)
    datasets = tuple(spec.pop("datasets", {}).items())
    found = _Specified(json.dumps(spec), datasets, pickle.dumps(drawn, pickle.HIGHEST_PROTOCOL))
    _specs.put(key, found)
    return drawn, found


def table(
    heading: str,
    shown: pl.DataFrame,
    numbers: pl.DataFrame | None = None,
    metrics: Sequence[str] = (),
    wrap: bool = False,
) -> None:
    """Draw a table of the page with its CSV and XLSX downloads. A short table of long text `wrap`s:
    drawn as a plain table whose cells wrap to the page's width (and a phone's), not a grid scrolled
    sideways."""
    exhibit = Exhibit(heading, shown, shown if numbers is None else numbers, None, "", tuple(metrics))
    if wrap:
        st.table(shown.to_pandas().set_index(shown.columns[0]))
    else:
        st.dataframe(shown, hide_index=True, width="stretch")
    _downloads(exhibit)


def _downloads(exhibit: Exhibit) -> None:
    found = briefing()
    found.exhibits.append(exhibit)
    index = len(found.exhibits)
    stem = f"{found.page}-{exhibit.slug}"
    files: list[tuple[str, str, str, Callable[[Exhibit, Provenance], bytes]]] = [
        ("CSV", "csv", "text/csv", csv_bytes),
        ("XLSX", "xlsx", XLSX, xlsx_bytes),
    ]
    if exhibit.chart is not None:
        files += [("PNG", "png", "image/png", png_bytes), ("SVG", "svg", "image/svg+xml", svg_bytes)]
    with st.container(horizontal=True, gap="small"):
        for label, suffix, mime, make in files:
            st.download_button(
                label,
                # Made on click, not on every run: an image takes a moment to render.
                data=_later(make, exhibit, found),
                file_name=f"{stem}.{suffix}",
                mime=mime,
                key=f"_export-{index}-{suffix}",
                help=f"Download “{exhibit.title}” as {label}, with where the numbers came from",
                icon=":material/download:",
                on_click="ignore",
                type="tertiary",
            )


def _later(
    make: Callable[[Exhibit, Provenance], bytes], exhibit: Exhibit, found: Briefing
) -> Callable[[], bytes]:
    return lambda: make(exhibit, stamped(found))


def stamped(found: Briefing) -> Provenance:
    """Return the briefing's provenance stamped with the time of the export."""
    return dataclasses.replace(found.provenance, generated_at=datetime.now(UTC))
