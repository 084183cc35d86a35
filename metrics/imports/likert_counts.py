"""Aggregated five-point answer counts (historic A-11 reporting, other survey tools) -> rows of the
responses input: one `answer_count` row per count, `weight` = the count, only that item answered.

Every item metric then computes from the counts exactly as from the same answers as respondent rows;
respondent counts take the trust item's counts (see `row_kind` in the data contract)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from metrics import contract
from metrics.fiscal import FiscalQuarter
from metrics.imports import store, values
from metrics.imports.csvfile import Record, Rejection, read_csv
from metrics.imports.rows import response_row, responses_frame, stable_id

COLUMNS = (
    "service",
    "fiscal_year",
    "fiscal_quarter",
    "question_key",
    "question_text",
    "scale_value",
    "count",
)
DEFAULT_CHANNEL = "other"  # the counts do not say which channel: give the collections import the same one


def import_likert_counts(
    path: Path, data_dir: Path, channel: str = DEFAULT_CHANNEL, segment: str = contract.NOT_REPORTED
) -> store.Outcome:
    """Validate every count and add the new ones to the responses input."""
    store.require_data_dir(data_dir)
    csv = read_csv(path, COLUMNS, exact=True)
    outcome = store.Outcome(path.name, read=len(csv.records) + len(csv.rejected), rejected=list(csv.rejected))
    held = store.existing(data_dir, contract.RESPONSES, ["response_id", "weight"])
    known: dict[str, int] = dict(zip(held["response_id"].to_list(), held["weight"].to_list(), strict=True))
    first_line: dict[str, int] = {}
    wording: dict[tuple[str, str, str], tuple[str, int]] = {}
    rows = []
    zero = 0
    for record in csv.records:
        row, item, count, reasons = _row(record, channel, segment)
        if reasons:
            outcome.rejected.append(Rejection(record.line, "; ".join(reasons)))
            continue
        quarter = FiscalQuarter.of(row["submitted_at"].date()).label
        key = (row["service"], quarter, item)
        answer = str(row[item])
        identity = stable_id("lc", row["service"], quarter, item, answer)
        if identity in first_line:
            outcome.rejected.append(
                Rejection(
                    record.line,
                    f"{row['service']}, {quarter}, {item} = {answer} is also on line {first_line[identity]}",
                )
            )
            continue
        first_line[identity] = record.line
        text, line = wording.setdefault(key, (row["question_text"], record.line))
        if text != row["question_text"]:
            outcome.rejected.append(
                Rejection(
                    record.line,
                    f"question_text differs from line {line} for {row['service']}, {quarter}, {item}: "
                    "one item is asked one way in a quarter",
                )
            )
            continue
        if identity in known:
            if known[identity] != count:
                outcome.rejected.append(
                    Rejection(
                        record.line,
                        f"count {count} for {row['service']}, {quarter}, {item} = {answer} differs from the "
                        f"{known[identity]} imported before; remove that import's file to replace it",
                    )
                )
            else:
                outcome.already += 1
            continue
        outcome.imported += 1
        if count == 0:
            zero += 1  # nobody gave this answer: a valid count that adds no row
            continue
        rows.append(row | {"response_id": identity, "weight": count})
    if zero:
        outcome.notes.append(
            f"{zero} of the imported counts {'is 0 and adds' if zero == 1 else 'are 0 and add'} no row."
        )
    outcome.written = store.write(data_dir, contract.RESPONSES, responses_frame(rows), "likert-counts")
    return outcome


def _row(record: Record, channel: str, segment: str) -> tuple[dict[str, Any], str, int, list[str]]:
    """Return the contract row of one count line, its item, its count and its problems."""
    reasons: list[str] = []
    found = record.values
    service = values.text(found, "service", reasons)
    year = values.whole(found, "fiscal_year", 2000, 2100, reasons)
    quarter = values.whole(found, "fiscal_quarter", 1, 4, reasons)
    item = values.text(found, "question_key", reasons, contract.A11_ITEMS)
    wording = values.text(found, "question_text", reasons)
    answer = values.whole(found, "scale_value", 1, 5, reasons)
    count = values.whole(found, "count", 0, None, reasons)
    if reasons or year is None or quarter is None or item is None or count is None:
        return {}, "", 0, reasons
    start = FiscalQuarter(year, quarter).start
    row = response_row(
        # Counts have no date: they are dated their quarter's first day (month breakdowns show them there).
        submitted_at=datetime(start.year, start.month, start.day),
        service=service,
        channel=channel,
        segment=segment,
        survey_version="v1",  # aggregated five-point counts are the v1 battery's way of reporting
        trust_scale="five_point",
        row_kind="answer_count",
        question_text=wording,
        **{item: answer},
    )
    return row, item, count, reasons
