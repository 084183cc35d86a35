"""The Streamlit app: navigation between the pages. Run with `make run`."""

from __future__ import annotations

import streamlit as st

from dashboard.app_pages import overview

st.set_page_config(page_title="CX dashboard", page_icon=":material/insights:", layout="wide")
page = st.navigation(
    [st.Page(overview.render, title="Overview", icon=":material/dashboard:", url_path="overview")]
)
page.run()
