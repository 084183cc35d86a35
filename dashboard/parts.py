"""A page's parts, each standing alone: a part whose data cannot be used (an input missing or failing
its checks, a broken metric file) says so in its place, and the rest of the page is still drawn. An
agency with survey answers and no contact-centre records still sees its drivers ranked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from metrics.errors import CxError


def cannot_show(what: str, error: CxError) -> None:
    """Say in place of `what` that it cannot be shown, and why."""
    st.error(f"{what} cannot be shown with the current data. Metrics and data lists every problem.")
    # Plain text: the reason quotes file names and values from the data.
    st.text(str(error))


@contextmanager
def part(what: str) -> Iterator[None]:
    """Draw one part of a page (`what`, e.g. "The waits"); an error in its data stops it alone."""
    try:
        yield
    except CxError as error:
        cannot_show(what, error)
