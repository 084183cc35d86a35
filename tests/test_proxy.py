"""Several replicas behind HAProxy (`cx serve`, deploy/haproxy.cfg): the store is built once for all of
them, new people are spread over the replicas and each stays on one, downloads come back through the
proxy, and a replica that stops does not stop new people. Two starts on the same new data building one
store is tests/test_store.py's test_a_dead_builds_scratch_is_cleaned_and_two_builds_at_once_build_one_store."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browsing import open_view, screenshot, settle
from playwright.sync_api import Browser, BrowserContext, Page, expect
from serving import Replicas, served_replicas

from cx import serve
from cx.cli import main
from cx.protocol import StreamlitSession
from metrics.errors import CxError

TRENDS_VIEW = "/trends?from=FY2026+Q1&to=FY2026+Q4&service=Passport+Services&metric=trust&split=channel"


@pytest.fixture(scope="module")
def fresh_data(small_sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smallest sample's inputs in a folder of their own with no store yet: `cx serve` builds it."""
    folder = tmp_path_factory.mktemp("proxied")
    for path in small_sample_dir.glob("*.parquet"):
        shutil.copy2(path, folder)
    return folder


@pytest.fixture(scope="module")
def proxied(fresh_data: Path) -> Iterator[Replicas]:
    """Two replicas behind HAProxy over the fresh copy. No test here stops one of these."""
    with served_replicas(fresh_data, replicas=2) as replicas:
        yield replicas


def visit(url: str, people: int) -> list[tuple[str, list[str], list[str]]]:
    """Open `people` new sessions at once over Streamlit's protocol and hold them open until all are
    drawn; return each one's SERVERID cookie, the widgets its page drew and any exceptions."""

    async def together() -> list[tuple[str, list[str], list[str]]]:
        sessions = [StreamlitSession(url) for _ in range(people)]
        try:
            await asyncio.gather(*(session.open() for session in sessions))
            return [(served_by(session), list(session.widgets), session.exceptions) for session in sessions]
        finally:
            await asyncio.gather(*(session.close() for session in sessions))

    # On a thread of its own: Playwright's sync API holds this thread's event loop in browser tests.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, together()).result()


def served_by(session: StreamlitSession) -> str:
    """Return the replica HAProxy named in the SERVERID cookie of the websocket's handshake."""
    assert session.connection is not None and session.connection.response is not None
    for header in session.connection.response.headers.get_all("Set-Cookie"):
        name, _, value = header.split(";")[0].partition("=")
        if name == "SERVERID":
            return value
    return ""


def stats(replicas: Replicas) -> dict[str, dict[str, str]]:
    """Return HAProxy's statistics per replica (status, scur: open sessions, stot: sessions so far)."""
    with urllib.request.urlopen(replicas.stats_url + ";csv", timeout=5) as response:
        rows = csv.DictReader(io.StringIO(response.read().decode().removeprefix("# ")))
        return {row["svname"]: row for row in rows if row["pxname"] == "replicas"}


def test_the_proxy_configuration_is_valid_and_names_every_replica(tmp_path: Path) -> None:
    text = serve.haproxy_config(8501, 8404, [8601, 8602, 8603])
    for needed in (
        "bind :8501",
        "bind 127.0.0.1:8404",
        "cookie SERVERID insert indirect nocache",
        "option httpchk GET /_stcore/health",
        "timeout tunnel 1h",
        "server replica3 127.0.0.1:8603 cookie replica3 check",
    ):
        assert needed in text, needed
    config = tmp_path / "haproxy.cfg"
    config.write_text(text, encoding="utf-8")
    checked = subprocess.run(
        [serve.haproxy_binary(), "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_missing_haproxy_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(serve, "HAPROXY", tmp_path / "haproxy")
    with pytest.raises(
        CxError, match=r"haproxy is not installed .*`make proxy` or `apt-get install haproxy`"
    ):
        serve.haproxy_binary()
    # Before any build: the data folder is not even read.
    assert main(["serve", "--data-dir", str(tmp_path / "nowhere"), "--replicas", "1"]) == 2
    assert "cx: error: haproxy is not installed" in capsys.readouterr().err


def test_a_data_folder_that_is_not_there_is_named_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert main(["serve", "--data-dir", str(missing), "--replicas", "1"]) == 2
    assert f"cx: error: --data-dir: {missing} is not a folder" in capsys.readouterr().err
    assert not missing.exists()  # no empty store was built in a new folder


@pytest.mark.slow
def test_the_store_is_built_once_before_the_replicas_start(proxied: Replicas, fresh_data: Path) -> None:
    said = [line.strip() for line in proxied.output().splitlines()]
    built = [n for n, line in enumerate(said) if "store built in" in line]
    first_replica = next(n for n, line in enumerate(said) if line.startswith("replica"))
    assert len(built) == 1 and said[built[0]].startswith("build |") and built[0] < first_replica, said
    # A replica that built, or waited for a build, would say so with `cx build:` lines of its own.
    assert [line for line in said if line.startswith("replica") and "cx build:" in line] == []
    assert len(list((fresh_data / ".cx-store").glob("store-*.duckdb"))) == 1


@pytest.mark.slow
def test_new_sessions_are_spread_over_the_replicas_and_each_stays_on_one(proxied: Replicas) -> None:
    # leastconn weighs the sessions already open: a page another test of this module left a moment
    # ago would tilt the split, so the visit starts once both replicas are up and hold none.
    deadline = time.monotonic() + 30
    while any(row["status"] != "UP" or row["scur"] != "0" for row in stats(proxied).values()):
        assert time.monotonic() < deadline, stats(proxied)
        time.sleep(0.5)
    seen = visit(proxied.url, 4)
    assert all("To quarter" in widgets and errors == [] for _, widgets, errors in seen), seen
    assert sorted(replica for replica, _, _ in seen) == ["replica1", "replica1", "replica2", "replica2"]
    before = stats(proxied)
    assert all(before[name]["status"] == "UP" for name in ("replica1", "replica2")), before
    # A request that carries the cookie goes back to its replica and is not given another one.
    for _ in range(3):
        request = urllib.request.Request(proxied.url + "/", headers={"Cookie": "SERVERID=replica2"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers.get("Set-Cookie") is None
    after = stats(proxied)
    assert int(after["replica2"]["stot"]) - int(before["replica2"]["stot"]) == 3
    assert after["replica1"]["stot"] == before["replica1"]["stot"]


def download(page: Page, label: str) -> bytes:
    """Click the download button `label` and return the file the browser received."""
    with page.expect_download(timeout=60_000) as started:
        page.get_by_role("button", name=label, exact=True).first.click()
    return Path(started.value.path()).read_bytes()


@pytest.mark.browser
def test_a_csv_and_a_deck_download_through_the_proxy(proxied: Replicas, browser: Browser) -> None:
    from pptx import Presentation

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        open_view(page, proxied.url + TRENDS_VIEW)
        text = download(page, "CSV").decode("utf-8")
        assert "# Page: Trends" in text.splitlines() and f"# Link to this view: {proxied.url}" in text
        deck = Presentation(io.BytesIO(download(page, "Briefing deck (PPTX)")))
        assert len(deck.slides) >= 3
        # The page, its websocket and both files came from the one replica the cookie names.
        cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
        assert cookies.get("SERVERID") in ("replica1", "replica2"), cookies
        open_view(page, proxied.url + "/")
        screenshot(page, "overview-through-proxy")
    finally:
        context.close()


@pytest.mark.browser
def test_a_stopped_replica_does_not_stop_new_sessions_and_its_pages_reconnect(
    fresh_data: Path, browser: Browser
) -> None:
    # A `cx serve` of its own: the module's two replicas stay whole for the other tests.
    with served_replicas(fresh_data, replicas=2) as replicas:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            open_view(page, replicas.url + "/trends?to=FY2026+Q3")
            stopped = server_cookie(context)
            other = {"replica1": "replica2", "replica2": "replica1"}[stopped]
            replicas.stop_replica(int(stopped.removeprefix("replica")))
            # At once, before a health check has noticed: a session sent to the stopped replica is
            # retried on the other (option redispatch).
            seen = visit(replicas.url, 4)
            assert [(replica, "To quarter" in widgets, errors) for replica, widgets, errors in seen] == [
                (other, True, [])
            ] * 4
            # The person whose replica stopped: the page reconnects to the other one and keeps the same
            # view; its very first filter change there takes (the new session starts its widgets from
            # the link rather than setting them over the values the browser sends), and so does the next.
            deadline = time.monotonic() + 30
            while server_cookie(context) != other:
                assert time.monotonic() < deadline, "the page did not reconnect to the other replica"
                page.wait_for_timeout(250)
            settle(page)
            assert page.get_by_role("combobox", name="To quarter").input_value() == "FY2026 Q3"
            assert page.get_by_test_id("stException").count() == 0
            for quarter in ("FY2026 Q2", "FY2026 Q1"):
                page.get_by_test_id("stSelectbox").filter(has_text="To quarter").click()
                page.get_by_role("option", name=quarter, exact=True).click()
                expect(page).to_have_url(re.compile("to=" + quarter.replace(" ", r"\+")), timeout=60_000)
                settle(page)
                assert page.get_by_role("combobox", name="To quarter").input_value() == quarter
            assert page.get_by_test_id("stException").count() == 0
            assert server_cookie(context) == other
        finally:
            context.close()
        while not stats(replicas)[stopped]["status"].startswith("DOWN"):
            assert time.monotonic() < deadline, stats(replicas)
            time.sleep(0.5)
        pid = replicas.replica_pids[int(stopped.removeprefix("replica")) - 1]
        assert (
            f"cx serve: {stopped.replace('replica', 'replica ')} (pid {pid}) stopped with exit status -9"
            in (replicas.output())
        )


def server_cookie(context: BrowserContext) -> str:
    """Return the replica the browser's SERVERID cookie names ("" before it has one)."""
    return next((c["value"] for c in context.cookies() if c["name"] == "SERVERID"), "")
