"""Overview page: how did customers rate the service in the latest quarter?"""

from __future__ import annotations

import streamlit as st

from dashboard import data
from metrics.errors import CxError
from metrics.formatting import format_value, suppression_note
from metrics.query import Query

HEADLINE = ("trust", "ease", "effectiveness", "emotion", "wait_median", "self_service_rate")


def render() -> None:
    """Draw the page."""
    st.title("Is trust up? Customer experience at a glance")
    engine = data.engine()
    quarters = data.run(Query.of("responses", by=["fiscal_quarter"]))["fiscal_quarter"].to_list()
    if not quarters:
        st.error("No survey responses found. Run `cx check` to see what is wrong with the inputs.")
        return
    latest = quarters[-1]
    st.caption(f"Latest fiscal quarter: {latest}. All services and channels; responses pooled.")
    columns = st.columns(len(HEADLINE))
    for column, name in zip(columns, HEADLINE, strict=True):
        metric = data.metric(name)
        try:
            row = data.run(Query.of(name, where={"fiscal_quarter": latest})).row(0, named=True)
        except CxError as error:
            column.warning(f"{metric.label}: {error}")
            continue
        column.metric(metric.label, format_value(row["value"], metric.format), help=metric.description)
        if row["n"] is not None:
            column.caption(f"n = {row['n']:,}")
    st.caption(suppression_note(engine.min_n))
