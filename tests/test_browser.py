"""Pages in a real headless Chromium against the served app: they open, show the engine's numbers,
and each is screenshotted into tests/artifacts/ for people to look at."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from metrics.formatting import format_value
from metrics.query import Engine, Query

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = ROOT / "tests" / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def app_url(sample_dir: Path) -> Iterator[str]:
    """Serve the dashboard over the small sample data and return its address."""
    port = _free_port()
    env = {**os.environ, "CX_DATA_DIR": str(sample_dir)}
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
        "--server.port", str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        output = server.stdout.read().decode() if server.stdout else ""
        raise RuntimeError(f"streamlit did not start on {url}:\n{output}")
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Debian's headless Chromium (the browser tests need `make browser` or .ci/run first)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context, as a new visitor would have."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def settle(page: Page) -> None:
    """Wait until the app has finished its run: Streamlit shows its status widget while running."""
    page.wait_for_load_state("networkidle")
    page.get_by_test_id("stApp").wait_for(timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000, polling=200
    )


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/ once the page has settled."""
    settle(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_overview_shows_the_latest_quarter_tiles(page: Page, app_url: str, sample_engine: Engine) -> None:
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Is trust up? Customer experience at a glance")).to_be_visible(
        timeout=30_000
    )
    latest = sample_engine.run(Query.of("responses", by=["fiscal_quarter"]))["fiscal_quarter"][-1]
    trust = sample_engine.run(Query.of("trust", where={"fiscal_quarter": latest})).row(0, named=True)
    tile = page.get_by_test_id("stMetric").filter(has_text="Trust")
    expect(tile).to_contain_text(format_value(trust["value"], "percent"), timeout=30_000)
    screenshot(page, "overview")
