"""Events that explain a line (launches, surges, policy changes), read strictly from
config/events.toml: an unknown key, a missing date or text, or a date that is not a date is named
with the file and the event's number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from metrics.configfiles import read_tables
from metrics.errors import CxError
from metrics.fiscal import FiscalQuarter
from metrics.sqlfiles import SQL_DIR

EVENTS_FILE = SQL_DIR.parent / "config" / "events.toml"
_KEYS = ("date", "text", "services")


@dataclass(frozen=True)
class Event:
    """One event: the day it started, what happened, and the services it touched (none: every one)."""

    date: dt.date
    text: str
    services: tuple[str, ...] = ()

    @property
    def quarter(self) -> str:
        """Return the fiscal quarter the event started in."""
        return FiscalQuarter.of(self.date).label

    def touches(self, services: Sequence[str]) -> bool:
        """Return whether the event concerns a view of `services` (none chosen: every service)."""
        return not self.services or not services or bool(set(self.services) & set(services))


def events_in(
    events: Sequence[Event], services: Sequence[str], start: str | None, end: str | None
) -> list[Event]:
    """Return the events that touch a view of `services` (none chosen: every service) within the
    period from `start` to `end` (fiscal quarter labels)."""
    return [
        e
        for e in events
        if e.touches(services) and (not start or e.quarter >= start) and (not end or e.quarter <= end)
    ]


def load_events(path: Path = EVENTS_FILE) -> tuple[Event, ...]:
    """Read the events file (none when it does not exist); raise CxError naming the file, the event
    and the key that is wrong."""
    if not path.exists():
        return ()
    entries = read_tables(path, "event", "events")
    return tuple(_event(path, i, entry) for i, entry in enumerate(entries, start=1))


def _event(path: Path, number: int, entry: object) -> Event:
    where = f"{path}: event {number}"
    if not isinstance(entry, dict):
        raise CxError(f"{where}: must be a table of {', '.join(_KEYS)}")
    for key in entry:
        if key not in _KEYS:
            raise CxError(f"{where}: unknown key '{key}'; known keys: {', '.join(_KEYS)}")
    for key in ("date", "text"):
        if key not in entry:
            raise CxError(f"{where}: '{key}' is missing")
    date, text, services = entry["date"], entry["text"], entry.get("services", [])
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise CxError(f"{where}: 'date' must be a date such as 2025-04-01, not {date!r}")
    if not isinstance(text, str) or not text.strip():
        raise CxError(f"{where}: 'text' must say what happened")
    if not isinstance(services, list) or not all(isinstance(s, str) and s.strip() for s in services):
        raise CxError(f"{where}: 'services' must be a list of service names")
    return Event(date, text.strip(), tuple(s.strip() for s in services))
