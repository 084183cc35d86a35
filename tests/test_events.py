"""Events on the Trends timeline: the file is read strictly (one bad-file case per failure, each named
with the file, the event and the key), and Trends draws the sample's events and the target."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from metrics.errors import CxError
from metrics.events import Event, load_events


def test_the_shipped_events_are_the_sample_stories() -> None:
    assert [(e.quarter, e.services, e.text) for e in load_events()] == [
        ("FY2025 Q3", ("Passport Services",), "Online passport renewal redesigned"),
        ("FY2025 Q4", ("Disaster Assistance",), "Hurricane season: disaster contacts surge"),
    ]
    everyone = Event(dt.date(2025, 1, 1), "A new law")
    assert everyone.touches(["Passport Services"]) and everyone.touches([])
    assert not load_events()[0].touches(["Disaster Assistance"]) and load_events()[0].touches([])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[[event]]\ndate = 2025-01-01\ntext = 'x'\nservice = ['A']\n",
            "event 1: unknown key 'service'; known keys: date, text, services",
        ),
        ("[[event]]\ntext = 'x'\n", "event 1: 'date' is missing"),
        ("[[event]]\ndate = 2025-01-01\n", "event 1: 'text' is missing"),
        (
            "[[event]]\ndate = '2025-01-01'\ntext = 'x'\n",
            "event 1: 'date' must be a date such as 2025-04-01, not '2025-01-01'",
        ),
        ("[[event]]\ndate = 2025-01-01\ntext = ' '\n", "event 1: 'text' must say what happened"),
        (
            "[[event]]\ndate = 2025-01-01\ntext = 'x'\nservices = 'A'\n",
            "event 1: 'services' must be a list of service names",
        ),
        ("title = 'x'\n", "unknown key 'title'; the file holds [[event]] tables only"),
        ("[[event]\n", "cannot read the events"),
    ],
)
def test_a_bad_events_file_is_named_with_the_event_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "events.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CxError, match=f"^{path}: " + message.replace("[", r"\[").replace("(", r"\(")):
        load_events(path)


def test_no_events_file_means_no_events(tmp_path: Path) -> None:
    assert load_events(tmp_path / "missing.toml") == ()
