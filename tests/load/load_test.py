"""Many users at once: serve the dashboard, open N sessions at once, and have each change filters and
pages for a while; report errors and latency. Not part of the test suite: `make load` runs it (25
sessions, 60 s); tests/test_load_smoke.py runs two sessions briefly.

By default each session speaks Streamlit's websocket protocol as a browser does (cx/protocol.py):
the server runs every script and sends every element, with no browser drawing them, so the figure
is the server's. A change is timed from the request to the end of the run it starts. `--browser`
drives real Chromium contexts instead (on a small machine the browsers, not the app, are then the
bottleneck). An error is a run that raises or does not finish within two minutes, or a lost session.

`--mix` makes the sessions behave like people sent a link: each opens the same shared link, reads for
5-15 s between filter changes, and now and then downloads a table's CSV (asked for over the protocol
as the browser asks, then fetched from its /media/ address with the session's cookie, so through a
proxy it must reach the replica that made it). `--room N` has N people open one shared link within
5 s and reports how long each waited for the whole page. `--replicas N` serves N replicas behind
HAProxy (`cx serve`) instead of one server."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
import urllib.request
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urljoin, urlparse

from playwright.async_api import Browser, Page, async_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect

from cx.protocol import StreamlitSession, Widget

ROOT = Path(__file__).resolve().parents[2]
# The server is started as the browser tests start it (tests/serving.py).
sys.path.insert(0, str(ROOT / "tests"))
from serving import CHROMIUM, CHROMIUM_FLAGS, served, served_replicas  # noqa: E402

# Many browsers at once outgrow a container's small /dev/shm.
FLAGS = [*CHROMIUM_FLAGS, "--disable-dev-shm-usage"]
PAGES = {
    "Overview": "/overview",
    "Trends": "/trends",
    "Equity and segments": "/equity",
    "Journeys": "/journeys",
    "What drives trust": "/drivers",
    "Value": "/value",
}
QUARTERS = [f"FY{year} Q{q}" for year in (2025, 2026) for q in (1, 2, 3, 4)]
SERVICES = ("Passport Services", "Naturalization", "Disaster Assistance", "Vessel Registration")
TIMEOUT_MS = 120_000
# A link someone shared: the overview of one service up to one quarter (dashboard/filters.py's keys).
SHARED_LINK = "service=Passport+Services&to=FY2026+Q2"
# --mix: seconds a person reads a page before changing a filter, and how often a change is followed
# by a CSV download.
READING = (5.0, 15.0)
DOWNLOAD_SHARE = 0.25
# --room: everyone arrives within this many seconds.
ARRIVALS = 5.0


@dataclass
class Tally:
    """What all sessions did: each finished action's seconds, and each error with what it was."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.by_kind.setdefault(kind, []).append(seconds)


async def settle(page: Page) -> None:
    """Wait for the end of the app's run: the copy-link box drawn, the running indicator gone."""
    await page.locator("[data-testid=stSidebar] [data-testid=stCode]").wait_for(timeout=TIMEOUT_MS)
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=TIMEOUT_MS, polling=100
    )


async def check_page(page: Page, tally: Tally, what: str) -> None:
    if await page.get_by_test_id("stException").count():
        tally.errors.append(
            f"{what}: exception on the page: {await page.get_by_test_id('stException').first.inner_text()}"
        )


async def choose_quarter(page: Page, rng: random.Random) -> str:
    """Pick another 'To quarter' in the sidebar; return the address-bar text that marks the run's end."""
    current = await page.get_by_role("combobox", name="To quarter").input_value()
    quarter = rng.choice([q for q in QUARTERS if q != current])
    await page.get_by_test_id("stSelectbox").filter(has_text="To quarter").click()
    await page.get_by_role("option", name=quarter, exact=True).click()
    return "to=" + quote_plus(quarter)


async def choose_service(page: Page, rng: random.Random) -> str:
    """Add a service to the sidebar's Service filter."""
    chosen = await page.get_by_test_id("stMultiSelect").filter(has_text="Service").inner_text()
    service = rng.choice([s for s in SERVICES if s not in chosen] or list(SERVICES))
    await page.get_by_test_id("stMultiSelect").filter(has_text="Service").click()
    await page.keyboard.type(service)
    await page.get_by_role("option", name=service, exact=True).click()
    await page.keyboard.press("Escape")
    return "service=" + quote_plus(service)


async def switch_page(page: Page, rng: random.Random) -> str:
    """Open another page from the navigation; the filters stay in the link."""
    here = urlparse(page.url).path.rstrip("/") or "/overview"
    title, path = rng.choice([(t, p) for t, p in PAGES.items() if p != here])
    await page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    return path


ACTIONS = {"quarter": choose_quarter, "service": choose_service, "page": switch_page}


async def session(
    browser: Browser, url: str, number: int, until: float, actions: int | None, tally: Tally
) -> None:
    """One person: open the app, then change filters and pages until `until` (or `actions` done)."""
    rng = random.Random(number)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    done = 0
    try:
        started = time.monotonic()
        await page.goto(url, timeout=TIMEOUT_MS)
        await settle(page)
        tally.add("open", time.monotonic() - started)
        while (actions is None and time.monotonic() < until) or (actions is not None and done < actions):
            kind = rng.choice(list(ACTIONS))
            if kind == "service" and page.url.count("service=") >= 2:
                kind = "quarter"  # keep the filter list short: two services at most
            heading = await page.get_by_role("heading", level=1).first.inner_text()
            started = time.monotonic()
            try:
                mark = await ACTIONS[kind](page, rng)
                await page.wait_for_url(re.compile(re.escape(mark)), timeout=TIMEOUT_MS)
                if kind == "page":
                    # The address changes at the click; the run ends when the new page's title is drawn.
                    await page.wait_for_function(
                        "old => { const h = document.querySelector('h1'); return h && h.innerText !== old; }",
                        arg=heading,
                        timeout=TIMEOUT_MS,
                        polling=100,
                    )
                await settle(page)
            except Exception as error:  # a timeout or a vanished element: count it, carry on fresh
                tally.errors.append(
                    f"session {number} {kind}: {type(error).__name__}: {str(error).splitlines()[0]}"
                )
                await page.goto(url, timeout=TIMEOUT_MS)
                await settle(page)
                continue
            tally.add(kind, time.monotonic() - started)
            await check_page(page, tally, f"session {number} {kind}")
            done += 1
    except Exception as error:
        tally.errors.append(f"session {number}: {type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        await context.close()


async def browser_run(url: str, sessions: int, seconds: float, actions: int | None) -> Tally:
    """Drive `sessions` Chromium contexts at once against `url`."""
    tally = Tally()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        # One visit first, as a served app has had: the engine loads once per server, not per person.
        warm = await browser.new_context()
        first = await warm.new_page()
        await first.goto(url, timeout=TIMEOUT_MS)
        await settle(first)
        await warm.close()
        until = time.monotonic() + seconds
        await asyncio.gather(*(session(browser, url, i, until, actions, tally) for i in range(sessions)))
        await browser.close()
    return tally


async def protocol_session(
    url: str, number: int, until: float, actions: int | None, think: float, tally: Tally
) -> None:
    """One person over the websocket protocol: open the app, then change filters and pages."""
    rng = random.Random(number)
    person = StreamlitSession(url)
    done = 0
    try:
        tally.add("open", await asyncio.wait_for(person.open(), TIMEOUT_MS / 1000))
        while (actions is None and time.monotonic() < until) or (actions is not None and done < actions):
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
            kind, change = protocol_action(person, rng)
            try:
                tally.add(kind, await asyncio.wait_for(change, TIMEOUT_MS / 1000))
            except TimeoutError:
                tally.errors.append(f"session {number} {kind}: no answer within {TIMEOUT_MS / 1000:.0f} s")
                return
            if person.exceptions:
                tally.errors += [f"session {number} {kind}: {e}" for e in person.exceptions]
                person.exceptions.clear()
            done += 1
    except Exception as error:  # a lost connection or a protocol surprise: one error, session over
        tally.errors.append(f"session {number}: {type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        await person.close()


def protocol_action(person: StreamlitSession, rng: random.Random) -> tuple[str, Coroutine[Any, Any, float]]:
    """Pick what the person does next: another period end, services, channels, page or measure."""
    kinds = ["quarter", "service", "channel", "page"] + (["measure"] if "Measure" in person.widgets else [])
    kind = rng.choice(kinds)
    if kind == "quarter":
        return kind, person.choose("To quarter", rng.choice(person.widgets["To quarter"].options[-8:]))
    if kind in ("service", "channel"):
        label = "Service" if kind == "service" else "Channel"
        options = person.widgets[label].options
        return kind, person.choose(label, rng.sample(options, rng.randint(0, min(2, len(options)))))
    if kind == "measure":
        return kind, person.choose("Measure", rng.choice(person.widgets["Measure"].options))
    here = next((p for p, h in person.pages.items() if h == person.page_hash), "/")
    return kind, person.go_to(rng.choice([p for p in person.pages if p != here]))


async def protocol_run(
    url: str, sessions: int, seconds: float, actions: int | None, think: float, warm: int
) -> Tally:
    """Run `sessions` protocol sessions at once against `url`, after a warm-up visit per replica."""
    tally = Tally()
    await warm_up(url, warm)
    until = time.monotonic() + seconds
    await asyncio.gather(*(protocol_session(url, i, until, actions, think, tally) for i in range(sessions)))
    return tally


async def mix_run(url: str, sessions: int, seconds: float, link: str, warm: int) -> Tally:
    """Run `sessions` people sent `link` at once against `url` (--mix)."""
    tally = Tally()
    await warm_up(url, warm)
    until = time.monotonic() + seconds
    await asyncio.gather(*(mix_session(url, i, until, link, tally) for i in range(sessions)))
    return tally


class _Tap:
    """The websocket as StreamlitSession reads it, noting the session's id on the way: a download
    request must name the session it belongs to. Only the first messages are parsed twice."""

    def __init__(self, connection: ClientConnection, person: Visitor) -> None:
        self.connection = connection
        self.person = person
        self.response = connection.response

    async def send(self, message: bytes) -> None:
        await self.connection.send(message)

    async def recv(self) -> bytes:
        data = await self.connection.recv()
        if not self.person.session_id:
            message = ForwardMsg()
            message.ParseFromString(data)  # type: ignore[arg-type]
            if message.WhichOneof("type") == "new_session":
                self.person.session_id = message.new_session.initialize.session_id
        return data  # type: ignore[return-value]

    async def close(self) -> None:
        await self.connection.close()


@dataclass
class Visitor(StreamlitSession):
    """A protocol session that can also download: it keeps the proxy's cookie, its session id and the
    download buttons the last run drew (label, deferred file id or /media/ address)."""

    session_id: str = ""
    cookie: str = ""
    downloads: list[tuple[str, str, bool]] = field(default_factory=list)  # label, file, deferred

    async def open(self, query_string: str = "") -> float:
        """Connect and run the app's first page with `query_string`; return the run's seconds."""
        address = self.url.replace("http://", "ws://") + "/_stcore/stream"
        connection = await connect(address, subprotocols=["streamlit"], max_size=None)  # type: ignore[list-item]
        assert connection.response is not None
        # HAProxy names the replica in a cookie on the handshake; a download must go back there.
        self.cookie = "; ".join(c.split(";")[0] for c in connection.response.headers.get_all("Set-Cookie"))
        self.connection = _Tap(connection, self)  # type: ignore[assignment]
        self.query_string = query_string
        return await self.rerun()

    async def rerun(self) -> float:
        self.downloads = []
        return await super().rerun()

    def _read_element(self, received: ForwardMsg, drawn: dict[str, Widget]) -> None:
        super()._read_element(received, drawn)
        element = received.delta.new_element
        if element.WhichOneof("type") == "download_button":
            button = element.download_button
            deferred = button.HasField("deferred_file_id")
            self.downloads.append(
                (button.label, button.deferred_file_id if deferred else button.url, deferred)
            )

    async def download(self, label: str, rng: random.Random) -> float:
        """Press one of the download buttons `label` as the browser does: ask the server to make the
        file (the app makes them on click), then fetch it from the /media/ address it answers with.
        Return the seconds from the click to the last byte."""
        assert self.connection is not None
        _, file, deferred = rng.choice([d for d in self.downloads if d[0] == label])
        started = time.monotonic()
        if deferred:
            request = BackMsg()
            operation = request.backend_operation_request
            operation.request_id = uuid.uuid4().hex
            operation.session_id = self.session_id
            operation.deferred_file.file_id = file
            await self.connection.send(request.SerializeToString())
            while True:
                received = ForwardMsg()
                received.ParseFromString(await self.connection.recv())  # type: ignore[arg-type]
                answer = received.backend_operation_response
                if received.WhichOneof("type") == "backend_operation_response" and (
                    answer.request_id == operation.request_id
                ):
                    break
            if answer.error_msg:
                raise RuntimeError(f"download {label}: the server said {answer.error_msg}")
            file = answer.deferred_file.url
        body = await asyncio.to_thread(self._fetch, urljoin(self.url + "/", file))
        if label == "CSV" and b"\n# Page:" not in b"\n" + body[:4000]:
            raise RuntimeError(f"download {label}: {file} is not a CSV export: {body[:60]!r}")
        return time.monotonic() - started

    def _fetch(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"Cookie": self.cookie} if self.cookie else {})
        with urllib.request.urlopen(request, timeout=TIMEOUT_MS / 1000) as response:
            return bytes(response.read())


def filter_change(person: StreamlitSession, rng: random.Random) -> tuple[str, Coroutine[Any, Any, float]]:
    """Pick a sidebar filter to change: the period end, the services or the channels."""
    kind = rng.choice(["quarter", "service", "channel"])
    if kind == "quarter":
        return kind, person.choose("To quarter", rng.choice(person.widgets["To quarter"].options[-8:]))
    label = "Service" if kind == "service" else "Channel"
    options = person.widgets[label].options
    return kind, person.choose(label, rng.sample(options, rng.randint(0, min(2, len(options)))))


async def mix_session(url: str, number: int, until: float, link: str, tally: Tally) -> None:
    """One person sent a link: open it, read, change a filter, now and then download a CSV."""
    rng = random.Random(number)
    person = Visitor(url)
    try:
        started = time.monotonic()
        await asyncio.wait_for(person.open(link), TIMEOUT_MS / 1000)
        tally.add("open", time.monotonic() - started)
        while True:
            await asyncio.sleep(min(rng.uniform(*READING), max(0.0, until - time.monotonic())))
            if time.monotonic() >= until:
                break
            kind, change = filter_change(person, rng)
            tally.add(kind, await asyncio.wait_for(change, TIMEOUT_MS / 1000))
            if person.exceptions:
                tally.errors += [f"session {number} {kind}: {e}" for e in person.exceptions]
                person.exceptions.clear()
            if rng.random() < DOWNLOAD_SHARE and any(label == "CSV" for label, _, _ in person.downloads):
                tally.add("download", await asyncio.wait_for(person.download("CSV", rng), TIMEOUT_MS / 1000))
    except Exception as error:  # a lost connection, a timeout or a failed download: one error, session over
        tally.errors.append(f"session {number}: {type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        await person.close()


async def room_run(url: str, people: int, link: str, warm: int) -> tuple[Tally, float]:
    """Have `people` open one shared link within ARRIVALS seconds; return each one's seconds from
    arriving to the page fully sent, and the seconds from the first arrival to the last page."""
    tally = Tally()
    await warm_up(url, warm)
    rng = random.Random(0)
    delays = sorted(rng.uniform(0, ARRIVALS) for _ in range(people))

    async def arrive(number: int, delay: float) -> None:
        await asyncio.sleep(delay)
        person = StreamlitSession(url)
        started = time.monotonic()
        try:
            await asyncio.wait_for(person.open(link), TIMEOUT_MS / 1000)
            tally.add("open", time.monotonic() - started)
            tally.errors += [f"person {number}: {e}" for e in person.exceptions]
        except Exception as error:
            tally.errors.append(f"person {number}: {type(error).__name__}: {str(error).splitlines()[0]}")
        finally:
            await person.close()

    first = time.monotonic()
    await asyncio.gather(*(arrive(i, d) for i, d in enumerate(delays)))
    return tally, time.monotonic() - first


async def warm_up(url: str, replicas: int) -> None:
    """One visit per replica first, as a served app has had: each server opens its engine once."""
    visits = [StreamlitSession(url) for _ in range(replicas)]
    try:
        # Held open together, so HAProxy (leastconn) sends each to another replica.
        await asyncio.gather(*(visit.open() for visit in visits))
    finally:
        await asyncio.gather(*(visit.close() for visit in visits))


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (0 when there are no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def report(tally: Tally, sessions: int, seconds: float, mode: str) -> dict[str, object]:
    """Summarise a run: errors, then median and 95th percentile seconds of the filter and page changes
    (opening the app and downloads are reported apart, per action)."""
    changes = [v for k, v in tally.by_kind.items() if k not in ("open", "download") for v in v]
    return {
        "sessions": sessions,
        "seconds": seconds,
        "mode": mode,
        "changes": len(changes),
        "changes_per_minute": round(len(changes) / (seconds / 60), 1) if seconds else None,
        "errors": len(tally.errors),
        "error_list": tally.errors[:20],
        "median_s": round(statistics.median(changes), 3) if changes else None,
        "p95_s": round(percentile(changes, 0.95), 3),
        "max_s": round(max(changes), 3) if changes else None,
        "p95_by_action_s": {k: round(percentile(v, 0.95), 3) for k, v in sorted(tally.by_kind.items())},
        "count_by_action": {k: len(v) for k, v in sorted(tally.by_kind.items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "sample_data")
    parser.add_argument("--actions", type=int, help="each session makes this many changes, then stops")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a person pauses between changes"
    )
    parser.add_argument("--browser", action="store_true", help="drive Chromium contexts, not the protocol")
    parser.add_argument("--url", help="an app already served (default: serve one over --data-dir)")
    parser.add_argument(
        "--replicas", type=int, help="serve this many replicas behind HAProxy (`cx serve`), not one server"
    )
    parser.add_argument(
        "--mix",
        action="store_true",
        help="people sent a shared link: open it, read 5-15 s between filter changes, sometimes download a CSV",
    )
    parser.add_argument(
        "--room", type=int, metavar="N", help="N people open the shared link within 5 s; time each page"
    )
    parser.add_argument(
        "--link",
        default=SHARED_LINK,
        help=f"the shared link's query string, opened on the overview (default {SHARED_LINK})",
    )
    args = parser.parse_args()
    if args.browser and (args.mix or args.room):
        parser.error("--mix and --room speak the protocol; leave out --browser")
    if args.url and args.replicas:
        parser.error("--url names an app already served; --replicas serves one: give one of them")
    warm = args.replicas or 1
    served_by = args.url or (f"{args.replicas} replica(s) behind HAProxy" if args.replicas else "one server")

    def drive(url: str) -> dict[str, object]:
        if args.room:
            tally, whole = asyncio.run(room_run(url, args.room, args.link, warm))
            opened = tally.by_kind.get("open", [])
            return {
                "mode": "room",
                "people": args.room,
                "link": args.link,
                "served": served_by,
                "drawn": len(opened),
                "errors": len(tally.errors),
                "error_list": tally.errors[:20],
                "median_s": round(statistics.median(opened), 3) if opened else None,
                "p95_s": round(percentile(opened, 0.95), 3),
                "max_s": round(max(opened), 3) if opened else None,
                "last_page_after_s": round(whole, 3),
            }
        if args.browser:
            tally = asyncio.run(browser_run(url, args.sessions, args.seconds, args.actions))
        elif args.mix:
            tally = asyncio.run(mix_run(url, args.sessions, args.seconds, args.link, warm))
        else:
            tally = asyncio.run(
                protocol_run(url, args.sessions, args.seconds, args.actions, args.think, warm)
            )
        mode = "browser" if args.browser else "mix" if args.mix else "protocol"
        return {**report(tally, args.sessions, args.seconds, mode), "served": served_by}

    if args.url:
        summary = drive(args.url)
    elif args.replicas:
        with served_replicas(args.data_dir, args.replicas) as replicas:
            summary = drive(replicas.url)
    else:
        with served(args.data_dir) as url:
            summary = drive(url)
    print(json.dumps(summary, indent=2))
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
