"""Where the data is and how small a cell may be shown: from flags, then environment, then defaults."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metrics.errors import CxError
from metrics.suppression import DEFAULT_MIN_N

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "sample_data"
# What DuckDB may hold in memory, serving or building; beyond it, it pages to disk. Enough for a
# build of any size at 3 GB; a machine with less memory sets CX_MEMORY_LIMIT lower.
DEFAULT_MEMORY_LIMIT = "3GB"
# The agency's time zone: timestamps given in UTC or with an offset are converted to it before they
# are dated to a fiscal quarter (a Touchpoints upload at 01:30 UTC on October 1 is still September 30
# in Washington). Timestamps without a zone are taken as already in it.
DEFAULT_TIME_ZONE = "America/New_York"
BUILD_MODES = ("auto", "never")
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """The data directory, the suppression minimum and DuckDB's memory limit in force."""

    data_dir: Path
    min_n: int
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    time_zone: str = DEFAULT_TIME_ZONE
    # "auto": a server builds the store its data needs; "never": it waits for one built by `cx build`
    # (one build for many servers that share the store folder).
    build: str = "auto"

    @property
    def store_dir(self) -> Path:
        """Where the store built from the data lives: CX_STORE_DIR, else a hidden folder beside the data."""
        configured = os.environ.get("CX_STORE_DIR", "").strip()
        return Path(configured) if configured else self.data_dir / ".cx-store"

    @classmethod
    def load(cls, data_dir: str | None = None, min_n: int | None = None) -> Settings:
        """Resolve settings: explicit values, then CX_DATA_DIR and CX_MIN_N, then the defaults."""
        directory = Path(data_dir or os.environ.get("CX_DATA_DIR") or DEFAULT_DATA_DIR)
        if min_n is None:
            text = os.environ.get("CX_MIN_N", "").strip()
            if text and not text.isdigit():
                raise CxError(f"CX_MIN_N: value '{text}' is not a whole number")
            min_n = int(text) if text else DEFAULT_MIN_N
        if min_n < 1:
            raise CxError(f"minimum n: value {min_n} must be 1 or more")
        build = os.environ.get("CX_BUILD", "").strip().lower() or "auto"
        if build not in BUILD_MODES:
            raise CxError(f"CX_BUILD: value '{build}' is not one of {', '.join(BUILD_MODES)}")
        return cls(
            directory, min_n, memory_limit(os.environ.get("CX_MEMORY_LIMIT", "")), agency_time_zone(), build
        )


def memory_limit(text: str) -> str:
    """Return a memory limit such as `3GB` or `512MB` (the default when `text` is blank), or raise a
    CxError naming CX_MEMORY_LIMIT."""
    text = text.strip()
    if not text:
        return DEFAULT_MEMORY_LIMIT
    if not _MEMORY.fullmatch(text):
        raise CxError(f"CX_MEMORY_LIMIT: value '{text}' is not a size such as 3GB or 512MB")
    return text


def agency_time_zone(text: str | None = None) -> str:
    """Return the agency's time zone: `text`, else CX_TIMEZONE, else America/New_York; a name the
    time zone database does not know is a CxError naming CX_TIMEZONE."""
    name = (os.environ.get("CX_TIMEZONE", "") if text is None else text).strip() or DEFAULT_TIME_ZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CxError(f"CX_TIMEZONE: value '{name}' is not a time zone such as America/New_York") from None
    return name
