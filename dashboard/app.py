"""The Streamlit app: URL state, the shared sidebar filters, navigation, and the copy-link box.
Run with `make run`."""

from __future__ import annotations

import streamlit as st

from dashboard import filters, signin, state
from metrics.errors import CxError

st.set_page_config(page_title="CX dashboard", page_icon=":material/insights:", layout="wide")
signin.gate()  # before anything reads data: with sign-in configured, nothing is drawn until it is done
state.begin()
page = st.navigation(
    [
        st.Page(
            "app_pages/overview.py",
            title="Overview",
            icon=":material/dashboard:",
            url_path="overview",
            default=True,
        ),
        st.Page("app_pages/trends.py", title="Trends", icon=":material/show_chart:", url_path="trends"),
        st.Page(
            "app_pages/equity.py",
            title="Equity and segments",
            icon=":material/diversity_3:",
            url_path="equity",
        ),
        st.Page("app_pages/journeys.py", title="Journeys", icon=":material/route:", url_path="journeys"),
        st.Page("app_pages/drivers.py", title="What drives trust", icon=":material/hub:", url_path="drivers"),
        st.Page("app_pages/value.py", title="Value", icon=":material/savings:", url_path="value"),
        st.Page(
            "app_pages/reporting.py",
            title="A-11 reporting",
            icon=":material/assignment_turned_in:",
            url_path="reporting",
        ),
        st.Page(
            "app_pages/catalog.py", title="Metrics and data", icon=":material/menu_book:", url_path="catalog"
        ),
    ]
)
notices = st.container()
filters.sidebar()
try:
    page.run()
except CxError as error:
    # A broken input or metric file stops this page's analysis, not the app: say what and where.
    st.error("This page cannot be shown with the current data. Metrics and data lists every problem.")
    st.text(str(error))
state.finish(notices)
with st.sidebar:
    # Plain text, not a caption: captions are too faint on the sidebar's grey for WCAG AA.
    st.markdown("**Copy link to this view**  \nIt reopens this page with the same filters and choices.")
    st.code(state.link(), language=None, wrap_lines=True)
