"""Sign-in end to end, as a person meets it: Chromium against a local OpenID Connect provider (the
oidc-provider-mock package, started here), through HAProxy with two replicas (`cx serve`), with an
access file that limits the person to one service. Before sign-in and after sign-out no page, number
or download is reachable; signed in, only the allowed service shows, and its deck downloads."""

from __future__ import annotations

import io
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import ARTIFACTS, settle
from conftest import OTHERS, PASSPORTS
from oidc_provider_mock import run_server_in_thread
from playwright.sync_api import Browser, Page
from pptx import Presentation
from serving import Replicas, free_port, served_replicas

PAT = "pat@passports.example.gov"
SIGN_IN_TITLE = "Who are you? Sign in to see the CX dashboard"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signed_in_app(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Two replicas behind the proxy, with sign-in through a local provider and an access file."""
    folder = tmp_path_factory.mktemp("signin")
    access = folder / "access.toml"
    access.write_text(f'[[grant]]\nwho = ["{PAT}"]\nservices = ["{PASSPORTS}"]\n', encoding="utf-8")
    port = free_port()
    saved = {
        k: os.environ.get(k)
        for k in ("STREAMLIT_SECRETS_FILES", "CX_ACCESS_FILE", "AUTHLIB_INSECURE_TRANSPORT")
    }
    with run_server_in_thread() as provider:
        secrets = folder / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "the-same-secret-on-every-replica-for-the-test-0123456789"\n'
            'client_id = "cx-dashboard"\n'
            'client_secret = "not-a-real-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        # The replicas inherit these: the secrets file every replica shares, the access file, and
        # plain HTTP to the provider (a real provider is reached over HTTPS).
        os.environ["STREAMLIT_SECRETS_FILES"] = str(secrets)
        os.environ["CX_ACCESS_FILE"] = str(access)
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
        try:
            with served_replicas(sample_dir, replicas=2, port=port) as app:
                yield app
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def at_sign_in(page: Page) -> None:
    """Check that the page is the sign-in prompt and shows nothing else."""
    page.get_by_role("heading", name=SIGN_IN_TITLE).wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000, polling=200
    )
    text = page.locator("[data-testid=stMain]").inner_text()
    assert "%" not in text and PASSPORTS not in text, text
    assert page.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stDownloadButton").count() == 0
    assert page.get_by_test_id("stMultiSelect").count() == 0


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_sign_in_shows_only_the_allowed_service_and_sign_out_shows_nothing(
    signed_in_app: Replicas, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    # Before sign-in: every page, whatever the link asks, is the prompt.
    for path in ("/", "/equity?service=Naturalization&metric=trust", "/reporting"):
        page.goto(signed_in_app.url + path)
        at_sign_in(page)

    page.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("sub").fill(PAT)  # the provider's form: who signs in
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{signed_in_app.url}/**", timeout=60_000)
    settle(page)
    assert f"Signed in as {PAT}" in page.get_by_test_id("stSidebar").inner_text()
    # The session sticks to one replica: HAProxy's cookie names it.
    assert any(c["name"] == "SERVERID" for c in context.cookies())
    shown = page.locator("[data-testid=stMain]").inner_text()
    assert PASSPORTS in shown and page.get_by_test_id("stMetric").count() >= 4
    assert not [s for s in OTHERS if s in shown]
    page.get_by_test_id("stMultiSelect").filter(has_text="Service").click()
    offered = [o.inner_text() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    assert offered == [PASSPORTS]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "signed-in-one-service.png"), full_page=True)

    with page.expect_download(timeout=120_000) as started:
        page.get_by_role("button", name="Briefing deck (PPTX)").click()
    download = started.value
    deck = Presentation(io.BytesIO(Path(download.path()).read_bytes()))
    texts = " ".join(s.text for slide in deck.slides for s in slide.shapes if s.has_text_frame)
    assert PASSPORTS in texts and not [s for s in OTHERS if s in texts]

    # A link to another service says so and shows nothing of it.
    page.goto(f"{signed_in_app.url}/equity?service=Naturalization")
    settle(page)
    main = page.locator("[data-testid=stMain]").inner_text()
    assert "not among the services you may see" in main
    assert page.get_by_test_id("stMetric").count() == 0 and "%" not in main

    page.get_by_role("button", name="Sign out").click()
    # The app has forgotten the person; the provider asks whether to end its session too, then
    # sends the browser back to the app.
    page.get_by_role("button", name="End session").click()
    at_sign_in(page)
    for path in ("/", "/trends?service=Passport+Services"):
        page.goto(signed_in_app.url + path)
        at_sign_in(page)
    # The deck's address no longer answers, to this browser or any other.
    assert download.url.startswith(signed_in_app.url + "/media/"), download.url
    assert status(download.url) == 404
    context.close()
