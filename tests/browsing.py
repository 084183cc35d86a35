"""Helpers the browser tests share: the pages' addresses, waiting for a run to finish, screenshots and
the accessibility checker's script."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from dashboard.pages import PAGES as APP_PAGES

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
# The overview is the default page, served at the root.
PAGES = {p.url_path: "/" if p.default else f"/{p.url_path}" for p in APP_PAGES}
LATEST = "FY2026 Q4"


def settle(page: Page) -> None:
    """Wait until the app has finished its run: the copy-link box is the last thing a run draws, and
    Streamlit shows its status widget while a run is going."""
    page.locator("[data-testid=stSidebar] [data-testid=stCode]").wait_for(timeout=90_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000, polling=200
    )
    page.wait_for_load_state("networkidle")


def screenshot(page: Page, name: str) -> Path:
    """Save a whole-page screenshot under tests/artifacts/ once the page has settled. Streamlit scrolls
    inside its own container, so the window is made as tall as the content for the picture."""
    settle(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 1000}
    tall = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": size["width"], "height": min(int(tall) + 40, 16_000)})
    page.wait_for_timeout(500)  # let charts redraw at the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def axe_script() -> Path:
    """Return axe-core's script, as the locked axe-playwright-python package ships it."""
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).parent / "axe.min.js"


def open_view(page: Page, url: str) -> None:
    """Open a view and wait until the app has finished drawing it."""
    page.goto(url)
    settle(page)


def main_text(page: Page) -> str:
    return page.get_by_test_id("stMain").inner_text()
