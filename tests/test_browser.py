"""Pages in a real headless Chromium against the served app: they open, show the engine's numbers,
and each is screenshotted into tests/artifacts/ for people to look at."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import polars as pl
import pytest
from browsing import ARTIFACTS, LATEST, PAGES, axe_script, main_text, open_view, screenshot, settle
from conftest import linked_copy, unlinked
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from serving import served

from metrics.formatting import format_value
from metrics.query import Engine, Query
from metrics.store import build_lock

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("name", PAGES)
def test_each_page_opens_exports_prints_and_has_no_serious_accessibility_violation(
    page: Page, app_url: str, name: str
) -> None:
    open_view(page, app_url + PAGES[name])
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_text("Page not found").count() == 0
    expect(page.get_by_role("heading", level=1)).to_contain_text("?")
    screenshot(page, name)
    page.add_script_tag(path=str(axe_script()))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    assert violations == [], violations
    # Every page exports: its first table's CSV and its briefing deck arrive as files.
    # (The sample pools Employee HR Services' unpublishable survey: a release line may lead.)
    assert download(page, "CSV").startswith((b"# Page: ", b"# Release: Internal only"))
    assert download(page, "Briefing deck (PPTX)")[:2] == b"PK"  # a PPTX is a zip
    # And it prints (checked on the page already open: opening it again would only take time).
    prints_its_content_without_the_interface(page, name)


def test_overview_tiles_show_the_engine_numbers(page: Page, app_url: str, sample_engine: Engine) -> None:
    open_view(page, app_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Is trust up? Customer experience in {LATEST}")
    trust = sample_engine.run(Query.of("trust", by=["fiscal_quarter"], start="FY2025 Q1", end=LATEST)).row(
        -1, named=True
    )
    tile = page.get_by_test_id("stMetric").filter(has_text="Trust")
    expect(tile).to_contain_text(format_value(trust["value"], "percent"))


def test_a_filter_change_goes_into_the_link_that_reopens_the_same_view(
    page: Page, browser: Browser, app_url: str
) -> None:
    open_view(page, app_url + "/equity")
    page.get_by_test_id("stSelectbox").filter(has_text="Break down by").click()
    page.get_by_role("option", name="Urban / suburban / rural").click()
    page.wait_for_url("**by=urbanicity**")
    settle(page)
    page.get_by_test_id("stMultiSelect").filter(has_text="Channel").click()
    page.keyboard.type("Website")  # the option list is virtualised: filter it first
    page.get_by_role("option", name="Website", exact=True).click()
    page.wait_for_url("**channel=website**")
    page.keyboard.press("Escape")
    settle(page)
    # The copy-link box is drawn last in a run: wait for this run's, not the one before.
    expect(page.get_by_test_id("stCode")).to_contain_text("channel=website")
    summary = page.locator("p", has_text="against the overall").first.inner_text()
    assert "channel: Website" in summary
    shared = page.url
    link = page.get_by_test_id("stCode").inner_text().strip()
    assert link.split("?")[1] == shared.split("?")[1], "the copy-link box holds the address bar's view"

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = fresh.new_page()
    open_view(other, link)
    assert other.locator("p", has_text="against the overall").first.inner_text() == summary
    expect(other.get_by_role("combobox", name="Break down by")).to_have_value("Urban / suburban / rural")
    expect(other.get_by_test_id("stMultiSelect").filter(has_text="Channel")).to_contain_text("Website")
    assert main_text(other) == main_text(page)
    fresh.close()


def test_a_bad_link_value_shows_a_notice_and_the_default(page: Page, app_url: str) -> None:
    open_view(page, app_url + "/trends?metric=trusst&grain=month&colour=red")
    alerts = page.get_by_test_id("stAlert")
    expect(alerts.filter(has_text="metric value 'trusst'")).to_be_visible()
    expect(alerts.filter(has_text="parameter colour is not used")).to_be_visible()
    expect(page.get_by_role("combobox", name="Measure")).to_have_value("Trust")
    expect(page.get_by_role("combobox", name="Period")).to_have_value("Month")
    screenshot(page, "bad-link")


def test_a_leader_finds_trust_for_rural_older_online_customers(
    page: Page, app_url: str, sample_engine: Engine
) -> None:
    view = (
        f"/equity?from={LATEST}&to={LATEST}&channel=website&channel=mobile_app&metric=trust&by=urbanicity"
        "&within=age_band&value=65%2B"
    )
    open_view(page, app_url + view.replace(" ", "+"))
    expect(page.locator("p", has_text="Gaps beyond sampling noise")).to_contain_text("Rural")
    screenshot(page, "equity-rural-65-online")


def test_a_value_link_carries_adjusted_assumptions_to_a_fresh_browser(
    page: Page, browser: Browser, app_url: str
) -> None:
    open_view(page, app_url + PAGES["value"])
    # The first card is the cost avoided, in dollars; the cards of a run may still be drawn one by one
    # once it has settled, the first of them not yet there.
    cost = page.get_by_test_id("stMetricValue").first
    expect(cost).to_have_text(re.compile(r"^-?\$[\d,]+$"), timeout=30_000)
    before = cost.inner_text()
    page.get_by_text("Assumptions: adjust them here").click()
    box = page.get_by_label("Phone (agent): cost ($)")
    box.fill("30")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"cost_phone=30"), timeout=30_000)
    settle(page)
    # A cost other than before: the phone's cost is in it.
    expect(cost).to_have_text(re.compile(rf"^(?!{re.escape(before)}$)-?\$[\d,]+$"), timeout=30_000)
    after = cost.inner_text()
    screenshot(page, "value-adjusted")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = context.new_page()
        open_view(fresh, page.url)
        expect(fresh.get_by_test_id("stMetricValue").first).to_have_text(after, timeout=30_000)
        fresh.get_by_text("Assumptions: adjust them here").click()
        expect(fresh.get_by_label("Phone (agent): cost ($)")).to_have_value("30.00")
    finally:
        context.close()


TRENDS_VIEW = (
    "/trends?from=FY2026+Q1&to=FY2026+Q4&service=Passport+Services&metric=trust&grain=fiscal_quarter"
    "&split=channel"
)


def download(page: Page, label: str) -> bytes:
    """Click the download button `label` and return the file the browser received."""
    button = page.get_by_role("button", name=label, exact=True).first
    with page.expect_download(timeout=60_000) as started:
        button.click()
    path = started.value.path()
    return Path(path).read_bytes()


def csv_rows(data: bytes) -> list[str]:
    return [line for line in data.decode("utf-8").splitlines() if not line.startswith("#")]


def test_each_download_button_delivers_its_file(
    page: Page, app_url: str, tmp_path: Path, sample_dir: Path
) -> None:
    open_view(page, app_url + TRENDS_VIEW)
    text = download(page, "CSV").decode("utf-8")
    assert text.startswith("# Page: Trends\n")
    assert f"# Link to this view: {app_url}{TRENDS_VIEW}" in text
    assert csv_rows(text.encode())[0] == "fiscal_quarter,channel,value,n,ci_low,ci_high,suppressed,mean"
    from openpyxl import load_workbook

    book = load_workbook(__import__("io").BytesIO(download(page, "XLSX")))
    assert book.sheetnames == ["Numbers", "Provenance"]
    assert ",".join(str(cell.value) for cell in book["Numbers"][1]) == csv_rows(text.encode())[0]
    said = list(book["Provenance"].iter_rows(values_only=True))
    assert ("Link to this view", f"{app_url}{TRENDS_VIEW}") in said
    png = download(page, "PNG")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image

    assert Image.open(__import__("io").BytesIO(png)).size[0] > 2000
    assert b"<svg" in download(page, "SVG")[:400]
    deck_file = tmp_path / "button.pptx"
    deck_file.write_bytes(download(page, "Briefing deck (PPTX)"))

    # cx brief on the same link writes the same deck: same slides, same tables.
    from pptx import Presentation

    from cx.cli import main

    cli_file = tmp_path / "cli.pptx"
    brief = ["brief", "--url", app_url + TRENDS_VIEW, "--out", str(cli_file), "--data-dir", str(sample_dir)]
    assert main(brief) == 0
    button_deck, cli_deck = Presentation(str(deck_file)), Presentation(str(cli_file))

    def contents(deck: object) -> list[tuple[str, list[list[str]]]]:
        slides = list(deck.slides)[:-1]  # type: ignore[attr-defined]  # the last holds the export time
        return [
            (
                slide.shapes.title.text,
                [
                    [cell.text for cell in row.cells]
                    for s in slide.shapes
                    if s.has_table
                    for row in s.table.rows
                ],
            )
            for slide in slides
        ]

    assert contents(button_deck) == contents(cli_deck)
    assert len(button_deck.slides) == 7


def test_a_saved_view_reopens_with_the_same_numbers(
    page: Page, browser: Browser, app_url: str, sample_dir: Path
) -> None:
    from dashboard.saved_views import folder

    try:
        open_view(page, app_url + TRENDS_VIEW)
        page.get_by_role("textbox", name="Save this view as").fill("Passport channels")
        page.get_by_role("button", name="Save view").click()
        expect(page.get_by_test_id("stAlert").filter(has_text="Saved “Passport channels”")).to_be_visible()
        expect(page.get_by_role("link", name="Passport channels")).to_be_visible()
        before = csv_rows(download(page, "CSV"))
        screenshot(page, "saved-view")
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            fresh = context.new_page()
            open_view(fresh, app_url + "/?view=passport-channels")
            expect(fresh).to_have_url(re.compile(r"/trends\?.*split=channel"))
            expect(fresh.get_by_test_id("stSidebar")).to_contain_text("Showing saved view: Passport channels")
            assert csv_rows(download(fresh, "CSV")) == before
        finally:
            context.close()
    finally:
        shutil.rmtree(folder(sample_dir), ignore_errors=True)


def test_a_first_start_on_new_data_shows_the_build_going(
    page: Page, small_sample_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(small_sample_dir, data_dir, ignore=shutil.ignore_patterns(".*"))  # without its store
    # The build lock is held until the page has been seen waiting: on a fast machine the server's first
    # store of the overview's measures can be ready before the browser's first visit.
    held = ExitStack()
    held.enter_context(build_lock(data_dir / ".cx-store"))
    with held, served(data_dir) as url:
        page.goto(url)
        note = page.get_by_text("Preparing the data for its first use")
        expect(note).to_be_visible(timeout=60_000)
        expect(page.get_by_text("so far.")).to_be_visible()
        expect(page.get_by_text("Now: ")).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "first_start.png"), full_page=True)
        held.close()  # the server's build goes on
        # Once the overview's measures are built, the page draws and says the rest is being prepared.
        expect(page.get_by_role("heading", level=1)).to_contain_text("?", timeout=300_000)
        settle(page)
        expect(note).to_have_count(0)
        assert page.get_by_test_id("stException").count() == 0
        rest = page.get_by_test_id("stAlert").filter(has_text="The overview's measures are ready")
        if rest.count():  # the rest may be in place already on a fast machine
            page.screenshot(path=str(ARTIFACTS / "first_start_overview.png"), full_page=True)
        # Then the whole store is in place, and a page drawn afresh says nothing of it.
        deadline = time.monotonic() + 300
        while True:
            page.reload()
            expect(page.get_by_role("heading", level=1)).to_contain_text("?", timeout=60_000)
            settle(page)
            if rest.count() == 0:
                break
            assert time.monotonic() < deadline, "the whole store was not in place within 5 minutes"
            time.sleep(2)
        assert page.get_by_test_id("stException").count() == 0
        assert len(list((data_dir / ".cx-store").glob("store-*.duckdb"))) == 1


def test_while_newer_data_is_prepared_the_pages_show_the_earlier_and_say_so(
    page: Page, small_sample_dir: Path, tmp_path: Path
) -> None:
    data_dir = linked_copy(small_sample_dir, tmp_path / "data")
    contacts = unlinked(data_dir / "contacts.parquet")
    pl.read_parquet(contacts).filter(pl.col("channel") != "phone").write_parquet(contacts)
    # Another process holds the build from before the server starts (which begins its own build as it
    # starts): the server's build waits, and the earlier store answers.
    with ExitStack() as other_build:
        other_build.enter_context(build_lock(data_dir / ".cx-store"))
        with served(data_dir) as url:
            page.goto(url)
            expect(page.get_by_role("heading", level=1)).to_contain_text("?", timeout=60_000)
            note = page.get_by_test_id("stAlert").filter(has_text="Shown: the data prepared on")
            expect(note).to_be_visible()
            expect(note).to_contain_text("the data of contacts changed since")
            expect(page.get_by_text("Preparing the data for its first use")).to_have_count(0)
            settle(page)
            screenshot(page, "newer_data_prepared")
            other_build.close()
            # Once the newer store is in place, a page drawn afresh shows it and no note.
            deadline = time.monotonic() + 180
            while True:
                page.reload()
                expect(page.get_by_role("heading", level=1)).to_contain_text("?", timeout=60_000)
                settle(page)
                if page.get_by_text("Shown: the data prepared on").count() == 0:
                    break
                assert time.monotonic() < deadline, "the newer store was not in place within 3 minutes"
                time.sleep(2)
            assert page.get_by_test_id("stException").count() == 0


def test_a_page_shows_what_cx_query_gives_for_the_same_view(
    page: Page, app_url: str, sample_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Published counts are perturbed: the page and the default `cx query` must still say the same.
    from cx.cli import main

    open_view(
        page,
        app_url
        + f"/equity?from={LATEST}&to={LATEST}&service=Passport+Services&metric=ease&by=age_band".replace(
            " ", "+"
        ),
    )
    summary = page.locator("p", has_text="against the overall").first.inner_text()
    capsys.readouterr()
    period = LATEST.replace(" ", "")
    assert (
        main(
            [
                "query",
                "ease",
                "--where",
                "service=Passport Services",
                "--from",
                period,
                "--to",
                period,
                "--format",
                "json",
                "--data-dir",
                str(sample_dir),
            ]
        )
        == 0
    )
    (overall,) = json.loads(capsys.readouterr().out)
    assert (
        f"{format_value(overall['value'], 'percent')} for everyone in the view (n = {overall['n']:,})"
        in summary
    )


# Words only the screen needs: the sidebar's sharing panel, the export buttons, Streamlit's own menu,
# and the names Material icons are drawn from (an expander's and a page link's arrows).
SCREEN_ONLY = (
    "Copy link to this view",
    "Download",
    "Briefing deck",
    "Save view",
    "Saved views",
    "Deploy",
    "keyboard_arrow",
    "arrow_forward",
)


def prints_its_content_without_the_interface(page: Page, name: str) -> None:
    """Check the page open in `page` prints its content, and none of the interface, on Letter sheets."""
    title = page.get_by_role("heading", level=1).inner_text()
    # Printed from the screen, as a person's Ctrl+P is: a chart keeps the width it was drawn at beside
    # the sidebar and shrinks to the paper. (Printed just after print media was emulated, the charts had
    # been drawn again across the whole window and shrank to half, their text too.)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    printed = page.pdf(path=str(ARTIFACTS / f"{name}-print.pdf"), format="Letter", print_background=True)
    # The PDF itself is checked, as the person printing gets it: PDF text breaks lines where the
    # paper does, so words are compared with their spacing made single.
    sheets = [" ".join(sheet.extract_text().split()) for sheet in PdfReader(io.BytesIO(printed)).pages]
    text = " ".join(sheets)
    assert sheets[0].startswith("Printed from the CX dashboard.")
    assert " ".join(title.split()) in sheets[0]
    assert [word for word in SCREEN_ONLY if word in text] == []
    # A few sheets, none blank: a blank one is what a table too tall to split across sheets left.
    assert 1 <= len(sheets) < 30
    assert [number for number, sheet in enumerate(sheets, 1) if not sheet] == []
    # What hides it is the print stylesheet: emulated print media hides what the screen shows.
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_test_id("stDownloadButton").first).to_be_hidden()


def test_what_customers_say_shows_the_surge_and_lists_comments_by_theme_but_none_for_a_small_group(
    page: Page, app_url: str, sample_engine: Engine
) -> None:
    open_view(page, app_url + "/voice?service=Disaster+Assistance")
    expect(page.get_by_role("heading", level=1)).to_contain_text("What are customers telling us?")
    # The planted surge: the numbers behind the themes' lines put long holds at their peak in FY2025 Q4.
    surge = sample_engine.run(
        Query.of("theme_long_hold", by=["fiscal_quarter"], where={"service": "Disaster Assistance"})
    )
    peak = surge.sort("value", descending=True).row(0, named=True)
    assert peak["fiscal_quarter"] == "FY2025 Q4"
    chart = page.locator('[role="graphics-document"][aria-label*="Long holds peaks at"]').first
    said = (chart.get_attribute("aria-label") or "").split("Long holds peaks at ")[1].split(";")[0]
    assert said.endswith("in FY2025 Q4"), said
    screenshot(page, "voice-disaster")

    open_view(page, app_url + "/voice?service=Passport+Services")
    about = page.get_by_role("combobox", name="About")
    about.scroll_into_view_if_needed()  # far down the page: its options open in view
    about.click()
    page.get_by_role("option", name="Praise for online renewal").click()
    page.wait_for_url("**say=theme_new_renewal**")
    settle(page)
    table = page.get_by_test_id("stTable").filter(has_text="Trust answer")
    rows = table.locator("tbody tr")
    assert rows.count() > 0
    assert all("Praise for online renewal" in rows.nth(i).inner_text() for i in range(rows.count()))
    screenshot(page, "voice-comments-by-theme")
    button = page.get_by_role("button", name=re.compile(r"Download these comments \(CSV, newest [0-9,]+\)"))
    with page.expect_download(timeout=60_000) as started:
        button.click()
    lines = csv_rows(Path(started.value.path()).read_bytes())
    assert lines[0] == "fiscal_quarter,trust_answer,themes,comment"
    assert len(lines) - 1 >= rows.count() and all("Praise for online renewal" in line for line in lines[1:])

    # Narrowed to a group whose comments all come from classes under the minimum, nothing is listed.
    open_view(page, app_url + "/voice?service=Passport+Services&from_group=race_ethnicity&group=Asian")
    text = main_text(page)
    assert "None of this view's comments can be listed" in text or "No comments in this view" in text
    assert page.get_by_test_id("stTable").filter(has_text="Trust answer").count() == 0
    # The themes the data suggests, with a theme file to start from.
    expect(page.get_by_role("heading", name="Themes the data suggests")).to_have_count(1)
    assert page.get_by_text("Theme file for topic 1").count() == 1
