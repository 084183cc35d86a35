"""The sidebar filters every page shares: fiscal period, service, channel and customer segment."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import data, state
from metrics.fiscal import FiscalQuarter, latest_complete
from metrics.formatting import listed
from metrics.provenance import data_as_of
from metrics.query import Filters

_FILTERS = "_filters"
_WITHHELD = "_withheld"
# The link parameters the sidebar sets; every other parameter is a page's own choice.
KEYS = ("from", "to", "service", "channel", "segment")
# What an unfiltered page covers, in words.
_UNFILTERED = (("service", "services"), ("channel", "channels"), ("segment", "segments"))


def sidebar() -> Filters:
    """Draw the filters in the sidebar and return them; pages read them with `current()`."""
    options = data.options()
    quarters = options["quarters"]
    if not quarters:
        st.session_state[_FILTERS] = Filters()
        return Filters()
    latest = latest_complete(quarters, date.today()) or quarters[-1]
    with st.sidebar:
        # Every page says how fresh its data is, before anything is read off it, and whether its survey
        # numbers may leave the agency (filled in once the filters are known).
        st.caption(f"Data as of: {data_as_of(data.coverage())}.")
        release = st.empty()
        st.header("Filters")
        start = state.select("From quarter", quarters, "from", default=quarters[0], read=read_quarter)
        end = state.select(
            "To quarter",
            quarters,
            "to",
            default=latest,
            help="The overview shows this quarter; FY2025 Q1 is October to December 2024.",
            read=read_quarter,
        )
        limited = data.viewer() is not None
        withheld = state.withhold("service", options["services"]) if limited else []
        services = state.multiselect(
            "Service", options["services"], "service", placeholder="All you may see" if limited else "All"
        )
        channels = state.multiselect(
            "Channel", options["channels"], "channel", format_func=data.channel_label
        )
        segments = state.multiselect("Customer segment", options["segments"], "segment")
    if FiscalQuarter.parse(start) > FiscalQuarter.parse(end):
        state.notice(f"The period starts ({start}) after it ends ({end}); showing {end} to {start}.")
        start, end = end, start
    if withheld:
        names = ", ".join(state.quoted(v) for v in withheld[:3])
        state.notice(
            f"This link shows {names}, which is not among the services you may see: nothing of it is shown."
        )
    # Someone who may see some services only sees them even with none chosen: the filters say so
    # (in words, in links' provenance) and every cached answer is keyed by them.
    allowed = data.viewer()
    if not services and allowed is not None:
        services = sorted(allowed)
    where = tuple(
        (dimension, tuple(values))
        for dimension, values in (("service", services), ("channel", channels), ("segment", segments))
        if values
    )
    filters = Filters(where, start, end)
    st.session_state[_FILTERS] = filters
    # A link that asked only for services the person may not see shows nothing else in their place.
    st.session_state[_WITHHELD] = bool(withheld) and not state.choices().get("service")
    note = data.internal_only(filters)
    if note:
        release.caption(f":material/lock: **{note}**")
    return filters


def read_quarter(text: str) -> str:
    """Read a quarter from a link however it is spelled; an unreadable one stays as typed."""
    try:
        return FiscalQuarter.parse(text).label
    except ValueError:
        return text


def withheld() -> bool:
    """Return whether this run's link asked only for services the person may not see."""
    return bool(st.session_state.get(_WITHHELD, False))


def current() -> Filters:
    """Return the filters the sidebar set on this run."""
    value = st.session_state.get(_FILTERS, Filters())
    assert isinstance(value, Filters)
    return value


def describe(filters: Filters, besides: str = "") -> str:
    """Say in words which filters apply, for captions and alt text; with `besides` (a dimension the
    page chooses itself, e.g. the journey's service), leave that dimension out."""
    parts = [f"{filters.start} to {filters.end}" if filters.start != filters.end else f"{filters.start}"]
    where = [(d, v) for d, v in filters.where if d != besides]
    for dimension, values in where:
        shown = [data.channel_label(v) if dimension == "channel" else v for v in values]
        parts.append(f"{dimension.replace('_', ' ')}: {', '.join(shown)}")
    unfiltered = [name for d, name in _UNFILTERED if d != besides]
    return "; ".join(parts) if where else parts[0] + f"; all {listed(unfiltered)}"
