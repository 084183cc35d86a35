"""A file written on click rather than on every run still arrives whole: the A-11 page's summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from browsing import LATEST, open_view
from playwright.sync_api import Page

from metrics.analyses.a11_report import a11_report, shown, summary_csv
from metrics.fiscal import FiscalQuarter
from metrics.query import Engine

pytestmark = pytest.mark.browser


def test_the_a11_summary_is_written_when_asked_for(page: Page, app_url: str, sample_engine: Engine) -> None:
    open_view(page, f"{app_url}/reporting?quarter={LATEST}")
    button = page.get_by_role("button", name=f"Download the {LATEST} summary by service", exact=False)
    with page.expect_download(timeout=60_000) as started:
        button.first.click()
    received = Path(started.value.path()).read_bytes()
    report = shown(a11_report(sample_engine, FiscalQuarter.parse(LATEST)), sample_engine.min_n)
    assert received == summary_csv(report, hidden_marked=True).encode("utf-8")
