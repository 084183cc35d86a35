"""Optional sign-in: when .streamlit/secrets.toml holds an [auth] section, no page, number or export
is drawn until the person signs in with the configured OpenID Connect provider (st.login)."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st


def providers() -> tuple[str, ...] | None:
    """Return the providers named in [auth] (empty when [auth] holds one provider's settings itself),
    or None when sign-in is not configured."""
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets.toml at all: sign-in is off
        return None
    if not auth:
        return None
    return tuple(name for name, value in auth.items() if isinstance(value, Mapping))


def gate() -> None:
    """Stop the run at a sign-in prompt unless sign-in is off or the person has signed in."""
    named = providers()
    if named is None:
        return
    if st.user.get("is_logged_in"):
        with st.sidebar:
            # Plain text: the name comes from the identity provider, never formatted as Markdown.
            st.text(f"Signed in as {st.user.get('name') or st.user.get('email') or 'you'}")
            st.button("Sign out", key="sign_out", on_click=st.logout)
        return
    st.title("Who are you? Sign in to see the CX dashboard")
    st.markdown("The customer-experience figures are shown to signed-in staff only.")
    for provider in named or (None,):
        label = f"Sign in with {provider.replace('_', ' ').title()}" if provider else "Sign in"
        if st.button(label, key=f"sign_in_{provider or 'default'}", type="primary"):
            st.login(provider)  # None: the provider whose settings [auth] holds itself
    st.stop()
