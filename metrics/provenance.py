"""Where an exported number came from: the view's filters and period, how fresh the data is, which
version of the metric definitions computed it, the suppression rule, when and the link to reopen it.
Every export (CSV, PNG, SVG, slide deck) carries the same lines."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from metrics.formatting import suppression_note
from metrics.sqlfiles import SQL_DIR, definitions_digest
from metrics.warehouse import InputCoverage


def definitions_version(folder: Path = SQL_DIR) -> str:
    """Return a short fingerprint of every definition file: two exports with the same fingerprint
    were computed the same way."""
    return "sql-" + definitions_digest(folder)[:12]


def file_version(path: Path) -> str:
    """Return a short fingerprint of one definition file, for a metric's own line in the notes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def data_as_of(coverage: Sequence[InputCoverage]) -> str:
    """Say how fresh the inputs are: the last quarter with records and when a file last changed."""
    quarters = sorted(c.last_quarter for c in coverage if c.last_quarter)
    changed = [c.modified for c in coverage if c.modified is not None]
    parts = []
    if quarters:
        parts.append(f"records through {quarters[-1]}")
    if changed:
        parts.append(f"files last changed {max(changed).astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    return "; ".join(parts) or "no data"


@dataclass(frozen=True)
class Provenance:
    """The lines every export of one view carries."""

    page: str
    filters: str  # the filters in words
    period: str
    data_as_of: str
    definitions: str
    min_n: int
    link: str
    generated_at: datetime
    choices: str = ""  # the page's own choices (measure, breakdown ...), as the link carries them
    release: str = ""  # why the view's survey numbers are internal only; empty when they may be published

    @property
    def suppression(self) -> str:
        """The suppression rule in force, as the pages footnote it."""
        return suppression_note(self.min_n)

    def lines(self) -> list[tuple[str, str]]:
        """Return the provenance as (label, text) pairs, in the order every export shows them."""
        return [
            *([("Release", self.release)] if self.release else []),
            ("Page", self.page),
            ("Filters", self.filters),
            *([("Choices", self.choices)] if self.choices else []),
            ("Period", self.period),
            ("Data as of", self.data_as_of),
            ("Metric definitions", f"{self.definitions} (fingerprint of the SQL files under sql/)"),
            ("Suppression", self.suppression),
            ("Generated at", f"{self.generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"),
            ("Link to this view", self.link or "not known"),
        ]
