"""Optional sign-in: with [auth] configured, a visitor who has not signed in sees a sign-in prompt and
no page, number, table, chart or download; a signed-in one sees the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import OIDC
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = ("overview", "trends", "equity", "journeys", "drivers", "value", "reporting", "catalog")


@pytest.fixture(autouse=True)
def sample_environment(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))
    monkeypatch.delenv("CX_MIN_N", raising=False)


def open_page(page: str, auth: dict[str, Any], user: dict[str, Any], **params: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.secrets["auth"] = auth
    app.user = user
    for key, value in params.items():
        app.query_params[key] = value
    app.switch_page(f"app_pages/{page}.py")
    return app.run()


@pytest.mark.parametrize("page", PAGES)
def test_nothing_is_shown_before_sign_in(page: str) -> None:
    app = open_page(page, OIDC, {"is_logged_in": False}, metric="trust", service="Passport Services")
    assert not app.exception
    assert [t.value for t in app.title] == ["Who are you? Sign in to see the CX dashboard"]
    assert [b.label for b in app.button] == ["Sign in"]
    assert not app.metric and not app.dataframe and not app.get("vega_lite_chart")
    assert not app.get("download_button") and not app.expander and not app.selectbox and not app.multiselect
    shown = " ".join(m.value for m in app.markdown)
    assert "%" not in shown and "Trust" not in shown


def test_each_named_provider_gets_a_button() -> None:
    auth = {"redirect_uri": OIDC["redirect_uri"], "cookie_secret": OIDC["cookie_secret"]}
    auth |= {"microsoft": {k: OIDC[k] for k in ("client_id", "client_secret", "server_metadata_url")}}
    auth |= {"login_gov": {k: OIDC[k] for k in ("client_id", "client_secret", "server_metadata_url")}}
    app = open_page("overview", auth, {"is_logged_in": False})
    assert [b.label for b in app.button] == ["Sign in with Microsoft", "Sign in with Login Gov"]
    assert not app.metric


def test_a_signed_in_person_sees_the_dashboard() -> None:
    app = open_page(
        "overview", OIDC, {"is_logged_in": True, "name": "Ada Lovelace", "email": "ada@example.gov"}
    )
    assert not app.exception
    assert {m.label for m in app.metric} >= {"Trust", "Ease"}
    assert "Signed in as Ada Lovelace" in [t.value for t in app.sidebar.text]
    assert "Sign out" in [b.label for b in app.sidebar.button]
