"""The Streamlit app: URL state, the shared sidebar filters, navigation, exports and sharing.
Run with `make run`."""

from __future__ import annotations

import streamlit as st

from dashboard import access, data, exhibits, filters, parts, sharing, signin, state
from dashboard.pages import PAGES
from metrics.errors import CxError

st.set_page_config(page_title="CX dashboard", page_icon=":material/insights:", layout="wide")
# Tables fit a phone's width, and a page printed from the browser drops the sidebar and the buttons
# (dashboard/page.css).
st.html(f"<style>{data.page_css()}</style>")
signin.gate()  # before anything reads data: with sign-in configured, nothing is drawn until it is done
state.begin()
pages = {
    spec.url_path: st.Page(
        spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=spec.default
    )
    for spec in PAGES
}
page = st.navigation(list(pages.values()))
data.ready()  # a first start on new data builds the store: its progress shows here
access.gate(data.viewer)  # with an access file, each person sees only the services it grants them
sharing.open_saved(pages)
current = next(key for key, candidate in pages.items() if candidate.title == page.title)
notices = st.container()
if (newer := data.newer_build()) is not None:  # an earlier store answers while the newest is prepared
    notices.info(newer, icon=":material/update:")
filters.sidebar()
exhibits.begin(current, page.title)
try:
    if filters.withheld():
        st.info("Choose from the services you may see in the sidebar.", icon=":material/lock:")
    else:
        page.run()
except CxError as error:
    # A broken input or metric file stops this page's analysis, not the app: say what and where.
    parts.cannot_show("This page", error)
state.finish(notices)
sharing.sidebar(exhibits.finish(), current)
data.page_drawn()
