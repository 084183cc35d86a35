"""Sharing a view: the copy-link box, the briefing deck, and saved views (listed in the sidebar,
saved under a name, reopened with ?view=NAME)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import streamlit as st

from dashboard import data, deck, saved_views, state
from dashboard.briefing import Briefing
from dashboard.exhibits import stamped
from metrics.errors import CxError

_OPENED = "_opened_view"


def open_saved(pages: Mapping[str, Any]) -> None:
    """When the link names a saved view (?view=NAME), go to its page with its choices."""
    asked = state.take("view")
    if not asked:
        return
    try:
        view = saved_views.load(data.engine().warehouse.data_dir, asked[0])
    except CxError as error:
        state.notice(f"The link's `view`: {error}. Showing this page as linked instead.")
        return
    # The view's choices replace whatever this session chose before.
    for key in [k for k in st.session_state if not str(k).startswith("_")]:
        del st.session_state[key]
    st.session_state[_OPENED] = f"{view.name} (saved {view.saved_at})"
    st.switch_page(pages[view.page], query_params=view.params)


def sidebar(found: Briefing, page: str) -> None:
    """Draw the sharing panel under the filters."""
    with st.sidebar:
        opened = st.session_state.pop(_OPENED, None)
        if opened:
            st.markdown(f"**Showing saved view:** {opened}")
        # Plain text, not a caption: captions are too faint on the sidebar's grey for WCAG AA.
        st.markdown("**Copy link to this view**  \nIt reopens this page with the same filters and choices.")
        st.code(found.provenance.link, language=None, wrap_lines=True)
        st.download_button(
            "Briefing deck (PPTX)",
            data=lambda: deck.build(dataclasses.replace(found, provenance=stamped(found))),
            file_name=f"{found.page}-briefing.pptx",
            mime=deck.PPTX,
            key="_export-deck",
            help="Title, key figures and a slide per chart with its numbers, alt text and speaker notes.",
            icon=":material/slideshow:",
            on_click="ignore",
        )
        _saved(page)


def _saved(page: str) -> None:
    """The save box, then the list, so a view saved on this run is listed at once."""
    data_dir = data.engine().warehouse.data_dir
    st.markdown("**Saved views**")
    with st.form("_save_view", border=False, enter_to_submit=True):
        name = st.text_input(
            "Save this view as",
            key="_view_name",
            placeholder="e.g. Quarterly trust brief",
            help="Keeps the page, filters and choices (not the numbers) under this name.",
        )
        st.caption(f"Names: {saved_views.NAME_RULE}.")
        replace = st.checkbox("Replace a saved view of the same name", key="_view_replace")
        if st.form_submit_button("Save view", icon=":material/bookmark_add:"):
            try:
                view = saved_views.save(
                    data_dir, name, page, state.choices(), state.link(), replace=replace, saved_by=_who()
                )
            except saved_views.ViewExists as taken:
                st.warning(f"Not saved: {taken}. Tick “Replace” to replace it, or choose another name.")
            except CxError as error:
                st.error(str(error))
            else:
                st.success(f"Saved “{view.name}”: open it from the list below or with ?view={view.key}.")
    allowed = data.viewer()
    # A view of a service the person may not see is not theirs to open, list or delete.
    views = [
        v
        for v in saved_views.listing(data_dir)
        if allowed is None or all(s in allowed for s in v.params.get("service", []))
    ]
    if not views:
        st.markdown("None yet: saved views are listed here.")
        return
    st.markdown(
        "\n".join(
            f"- [{state.inert(v.name)}](?view={v.key})"
            + (f" · {state.inert(v.saved_by)}, " if v.saved_by else " · ")
            + v.saved_at
            for v in views
        )
    )
    with st.popover("Delete a saved view", icon=":material/delete:"):
        doomed = st.selectbox(
            "View to delete",
            [v.key for v in views],
            key="_view_delete",
            format_func={v.key: v.name for v in views}.__getitem__,
        )
        if st.button("Delete it", key="_view_delete_button", type="primary"):
            try:
                saved_views.delete(data_dir, doomed)
            except CxError as error:
                st.error(str(error))
            else:
                st.success("Deleted.")
                st.rerun()


def _who() -> str:
    """Return who is signed in, when sign-in is on; saved views record it."""
    user = st.user
    return str(user.get("name") or user.get("email") or "") if user.get("is_logged_in") else ""
