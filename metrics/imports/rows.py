"""Rows of the responses input built by imports: every contract column set, what the source does not
know marked `Not reported` (never inferred), and ids derived from the content so a second import of
the same file finds its rows already there."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import polars as pl

from metrics import contract
from metrics.dimensions import EQUITY_DIMENSIONS

# Neither Touchpoints exports nor aggregated counts carry these: they are not reported, never guessed.
_UNKNOWN = ("journey_stage", *EQUITY_DIMENSIONS)


def stable_id(prefix: str, *parts: str) -> str:
    """Return an id made from `parts`: the same parts give the same id on every import."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]
    return f"{prefix}-{digest}"


def response_row(**values: Any) -> dict[str, Any]:
    """Return a full responses row: `values`, then null items and checklists, `Not reported` equity."""
    row: dict[str, Any] = {c.name: None for c in contract.RESPONSES.columns}
    row.update({name: contract.NOT_REPORTED for name in _UNKNOWN})
    row.update(weight=1, row_kind="respondent")
    row.update(values)
    return row


def responses_frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Return rows as a frame typed exactly to the responses contract."""
    schema: Any = contract.polars_schema(contract.RESPONSES)
    return pl.DataFrame(list(rows), schema=schema, orient="row")
