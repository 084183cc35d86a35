"""Many users at once: serve the dashboard, open N sessions at once, and have each change filters and
pages for a while; report errors and latency. Not part of the test suite: `make load` runs it (25
sessions, 60 s); tests/test_load_smoke.py runs two sessions briefly.

By default each session speaks Streamlit's websocket protocol as a browser does (tests/load/protocol.py):
the server runs every script and sends every element, with no browser drawing them, so the figure
is the server's. A change is timed from the request to the end of the run it starts. `--browser`
drives real Chromium contexts instead (on a small machine the browsers, not the app, are then the
bottleneck). An error is a run that raises or does not finish within two minutes, or a lost session."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlparse

from playwright.async_api import Browser, Page, async_playwright
from protocol import StreamlitSession

ROOT = Path(__file__).resolve().parents[2]
# The server is started as the browser tests start it (tests/serving.py).
sys.path.insert(0, str(ROOT / "tests"))
from serving import CHROMIUM, CHROMIUM_FLAGS, served  # noqa: E402

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


async def protocol_run(url: str, sessions: int, seconds: float, actions: int | None, think: float) -> Tally:
    """Run `sessions` protocol sessions at once against `url`, after one warm-up visit."""
    tally = Tally()
    warm = StreamlitSession(url)
    await warm.open()
    await warm.close()
    until = time.monotonic() + seconds
    await asyncio.gather(*(protocol_session(url, i, until, actions, think, tally) for i in range(sessions)))
    return tally


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (0 when there are no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def report(tally: Tally, sessions: int, seconds: float, mode: str) -> dict[str, object]:
    """Summarise a run: errors, then median and 95th percentile seconds of the filter and page changes
    (opening the app is reported apart, per action)."""
    changes = [v for k, v in tally.by_kind.items() if k != "open" for v in v]
    return {
        "sessions": sessions,
        "seconds": seconds,
        "mode": mode,
        "changes": len(changes),
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
    args = parser.parse_args()

    def drive(url: str) -> Tally:
        if args.browser:
            return asyncio.run(browser_run(url, args.sessions, args.seconds, args.actions))
        return asyncio.run(protocol_run(url, args.sessions, args.seconds, args.actions, args.think))

    if args.url:
        tally = drive(args.url)
    else:
        with served(args.data_dir) as url:
            tally = drive(url)
    summary = report(tally, args.sessions, args.seconds, "browser" if args.browser else "protocol")
    print(json.dumps(summary, indent=2))
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
