"""Customers served and offered the survey per service, fiscal quarter and channel (CSV) -> rows of
the collections input, for response and offer rates. One row per key: a quarter reported again with
the same figures adds nothing; with different figures it is refused, never merged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from metrics import contract
from metrics.imports import store, values
from metrics.imports.csvfile import Record, Rejection, read_csv

REQUIRED = (
    "service",
    "fiscal_year",
    "fiscal_quarter",
    "customers_served",
    "customers_offered",
    "trust_question_text",
    "survey_type",
    "publishable",
)
OPTIONAL = ("channel", *contract.COLLECTION_DETAILS)
KEY = ("service", "fiscal_year", "fiscal_quarter", "channel")
DEFAULT_CHANNEL = "other"  # as the likert-counts import, so response rates join them


def import_collections(path: Path, data_dir: Path, channel: str = DEFAULT_CHANNEL) -> store.Outcome:
    """Validate every row and add the new ones to the collections input."""
    store.require_data_dir(data_dir)
    csv = read_csv(path, REQUIRED, OPTIONAL)
    outcome = store.Outcome(path.name, read=len(csv.records) + len(csv.rejected), rejected=list(csv.rejected))
    columns = [c.name for c in contract.COLLECTIONS.columns]
    known = {_key(row): row for row in store.existing(data_dir, contract.COLLECTIONS, columns).to_dicts()}
    first_line: dict[tuple[Any, ...], int] = {}
    rows = []
    for record in csv.records:
        row, reasons = _row(record, channel)
        if reasons:
            outcome.rejected.append(Rejection(record.line, "; ".join(reasons)))
            continue
        key = _key(row)
        named = f"{row['service']}, FY{row['fiscal_year']} Q{row['fiscal_quarter']}, channel {row['channel']}"
        if key in first_line:
            outcome.rejected.append(Rejection(record.line, f"{named} is also on line {first_line[key]}"))
            continue
        first_line[key] = record.line
        if key in known:
            # A detail the new file leaves out (None) is not a different figure.
            differs = [
                c
                for c in columns
                if known[key][c] != row[c] and not (c in contract.COLLECTION_DETAILS and row[c] is None)
            ]
            if differs:
                before = ", ".join(f"{c} {known[key][c]!r}" for c in differs)
                outcome.rejected.append(
                    Rejection(
                        record.line, f"{named} is already imported with {before}; figures are not merged"
                    )
                )
            else:
                outcome.already += 1
            continue
        rows.append(row)
    outcome.imported = len(rows)
    schema: Any = contract.polars_schema(contract.COLLECTIONS)
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    outcome.written = store.write(data_dir, contract.COLLECTIONS, frame, "collections")
    return outcome


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in KEY)


def _row(record: Record, channel: str) -> tuple[dict[str, Any], list[str]]:
    """Return the contract row of one line and its problems."""
    reasons: list[str] = []
    found = record.values
    row = {
        "service": values.text(found, "service", reasons),
        "fiscal_year": values.whole(found, "fiscal_year", 2000, 2100, reasons),
        "fiscal_quarter": values.whole(found, "fiscal_quarter", 1, 4, reasons),
        "channel": (
            values.text(found, "channel", reasons, contract.CHANNELS)
            if found.get("channel", "").strip()
            else channel
        ),
        "customers_served": values.whole(found, "customers_served", 0, None, reasons),
        "customers_offered": values.whole(found, "customers_offered", 0, None, reasons),
        "trust_question_text": values.text(found, "trust_question_text", reasons),
        "survey_type": values.text(found, "survey_type", reasons, contract.SURVEY_TYPES),
        "publishable": values.boolean(found, "publishable", reasons),
        # What Touchpoints' collection detail names besides the volumes: text, empty when not given.
        **{name: found.get(name, "").strip() or None for name in contract.COLLECTION_DETAILS},
    }
    served, offered = row["customers_served"], row["customers_offered"]
    if isinstance(served, int) and isinstance(offered, int) and offered > served:
        reasons.append(f"customers_offered: value {offered} is more than customers_served ({served})")
    return row, reasons
