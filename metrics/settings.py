"""Where the data is and how small a cell may be shown: from flags, then environment, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from metrics.errors import CxError
from metrics.suppression import DEFAULT_MIN_N

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "sample_data"


@dataclass(frozen=True)
class Settings:
    """The data directory and the suppression minimum in force."""

    data_dir: Path
    min_n: int

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
        return cls(directory, min_n)
