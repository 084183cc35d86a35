"""Reading the text values of import files: whole numbers, booleans, fiscal periods. Each reader
returns None and adds a reason naming the column and the value when the text is not what it should be."""

from __future__ import annotations

import re

_WHOLE = re.compile(r"^\d+$")
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


def whole(values: dict[str, str], column: str, low: int, high: int | None, reasons: list[str]) -> int | None:
    """Return the column's whole number between `low` and `high` (no upper bound when None)."""
    text = values[column].strip()
    bounds = f"{low} to {high}" if high is not None else f"{low} or more"
    if not _WHOLE.match(text) or int(text) < low or (high is not None and int(text) > high):
        reasons.append(f"{column}: value '{text}' is not a whole number {bounds}")
        return None
    return int(text)


def boolean(values: dict[str, str], column: str, reasons: list[str]) -> bool | None:
    """Return the column's true/false (also yes/no, 1/0)."""
    text = values[column].strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    reasons.append(f"{column}: value '{values[column].strip()}' is not true or false")
    return None


def text(
    values: dict[str, str], column: str, reasons: list[str], allowed: tuple[str, ...] = ()
) -> str | None:
    """Return the column's non-empty text, one of `allowed` when given."""
    found = values[column].strip()
    if not found:
        reasons.append(f"{column} is empty")
        return None
    if allowed and found not in allowed:
        reasons.append(f"{column}: value '{found}' is not one of {', '.join(allowed)}")
        return None
    return found
