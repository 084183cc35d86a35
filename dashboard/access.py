"""Which services the person looking may see: their signed-in address against the access file
(metrics/access.py). Without an access file nobody's view is limited; with one, sign-in must be on,
as there is otherwise no one to look up."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard import signin
from metrics.access import Access, access_path, load_access
from metrics.errors import CxError


class AccessFileError(CxError):
    """The access file cannot be used: unreadable, malformed, or without sign-in to apply it."""


@st.cache_resource(show_spinner=False, max_entries=4)
def _access(path: str, changed: int, known: tuple[str, ...]) -> Access | None:
    """Return the access file, read once per version (`changed` is its modification time, so an
    edit takes effect on the next page change without a restart) and checked against the data's
    services: a misspelt service would otherwise grant nothing, silently."""
    found = load_access()
    if found is not None:
        found.check_services(known)
    return found


def scope(known: tuple[str, ...]) -> frozenset[str] | None:
    """Return the services the person may see (None: every service; empty: none), or raise CxError
    naming the access file when it cannot be read or sign-in is not configured. `known` are the
    services in the data."""
    path = access_path()
    try:
        changed = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    try:
        access = _access(str(path), changed, known)
    except CxError as error:
        raise AccessFileError(str(error)) from error
    if access is None:
        return None
    if signin.providers() is None:
        raise AccessFileError(
            f"{path} limits who sees which services, but sign-in is not configured (no [auth] in "
            ".streamlit/secrets.toml), so nobody can be told apart: nothing is shown"
        )
    user = st.user
    # An address the provider has not verified could be anyone's: it is granted nothing.
    verified = user.get("is_logged_in") and user.get("email_verified") is not False
    email = user.get("email") if verified else None
    return access.services_for(str(email) if email else None)


def gate(viewer: Callable[[], frozenset[str] | None]) -> None:
    """Stop the run with a message when the access file cannot be used, or grants the person looking
    no service: nothing else is drawn for them."""
    try:
        allowed = viewer()
    except AccessFileError as error:
        st.error("The dashboard's access file cannot be used, so nothing is shown. Tell its owner:")
        st.text(str(error))
        st.stop()
    if allowed is not None and not allowed:
        st.title("No service to show you")
        st.markdown(
            "You are signed in, but the dashboard's access file does not name you, so it shows you no "
            "figures. Ask the dashboard's owner to add your address or your office's domain."
        )
        st.stop()
