"""Federal fiscal periods: FY2025 Q1 = Oct-Dec 2024. Parses and labels the periods users type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_QUARTER = re.compile(r"^\s*FY\s*(\d{4})\s*-?\s*Q\s*([1-4])\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class FiscalQuarter:
    """A federal fiscal quarter; orders in time."""

    year: int
    quarter: int

    @classmethod
    def parse(cls, text: str) -> FiscalQuarter:
        """Read `FY2025 Q1`, `FY2025Q1` or `fy2025-q1`; raise ValueError naming the text otherwise."""
        match = _QUARTER.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a fiscal quarter; write it like FY2025Q1")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> FiscalQuarter:
        """Return the fiscal quarter a calendar date falls in."""
        year = day.year + (1 if day.month >= 10 else 0)
        return cls(year, (day.month + 2) % 12 // 3 + 1)

    @property
    def label(self) -> str:
        return f"FY{self.year} Q{self.quarter}"

    @property
    def start(self) -> date:
        month = (self.quarter - 1) * 3 + 10
        return date(self.year - 1, month, 1) if month <= 12 else date(self.year, month - 12, 1)

    @property
    def end(self) -> date:
        """The last day of the quarter."""
        return self.next().start - timedelta(days=1)

    def next(self) -> FiscalQuarter:
        return FiscalQuarter(self.year + self.quarter // 4, self.quarter % 4 + 1)

    def previous(self) -> FiscalQuarter:
        return FiscalQuarter(self.year - (1 if self.quarter == 1 else 0), (self.quarter - 2) % 4 + 1)

    def __str__(self) -> str:
        return self.label


def quarters_between(first: str, last: str) -> list[str]:
    """Return the labels of the fiscal quarters from `first` to `last`, both included (none when
    `first` comes after `last`)."""
    q, end, labels = FiscalQuarter.parse(first), FiscalQuarter.parse(last), []
    while q <= end:
        labels.append(q.label)
        q = q.next()
    return labels


def latest_complete(labels: list[str], today: date) -> str | None:
    """Return the latest of `labels` (fiscal-quarter labels) that had ended before `today`."""
    ended = [label for label in labels if FiscalQuarter.parse(label).end < today]
    return max(ended, key=FiscalQuarter.parse) if ended else None
