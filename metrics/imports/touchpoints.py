"""Touchpoints' A-11 v2 respondent export (CSV) -> rows of the responses input, one per respondent.

Every value arrives as text and "null" means not offered. The export carries no service, quarter,
channel, segment or equity: the service and quarter are given, channel and segment default to `other`
and `Not reported`, equity is `Not reported`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from metrics import contract
from metrics.fiscal import FiscalQuarter
from metrics.imports import store
from metrics.imports.csvfile import Record, Rejection, read_csv
from metrics.imports.rows import response_row, responses_frame, stable_id

DRIVER_COLUMNS = tuple(f"{side}_{d}" for side in ("positive", "negative") for d in contract.V2_DRIVERS)
COLUMNS = ("external_id", "question_1", *DRIVER_COLUMNS, "question_4")
# Touchpoints names the submission time created_at; either name is read when the column is there.
DATE_COLUMNS = ("created_at", "submitted_at")
NULL = "null"
DEFAULT_CHANNEL = "other"  # the export does not say which channel the survey followed
DEFAULT_SURVEY_TYPE = "thumbs_up_down"  # the Touchpoints v2 template asks trust as thumbs up/down


@dataclass(frozen=True)
class Target:
    """What the export does not say: whose service, which quarter, channel, segment and trust scale."""

    service: str
    quarter: FiscalQuarter
    channel: str = DEFAULT_CHANNEL
    survey_type: str = DEFAULT_SURVEY_TYPE
    segment: str = contract.NOT_REPORTED


def import_touchpoints(path: Path, data_dir: Path, target: Target) -> store.Outcome:
    """Validate every row of the export and add the new ones to the responses input."""
    store.require_data_dir(data_dir)
    csv = read_csv(path, COLUMNS, DATE_COLUMNS)
    outcome = store.Outcome(path.name, read=len(csv.records) + len(csv.rejected), rejected=list(csv.rejected))
    if csv.ignored_columns:
        outcome.notes.append(
            f"Columns not in the Touchpoints format were ignored: {', '.join(csv.ignored_columns)}."
        )
    known = set(store.existing(data_dir, contract.RESPONSES, ["response_id"])["response_id"].to_list())
    seen_content: Counter[str] = Counter()
    first_line: dict[str, int] = {}
    rows = []
    for record in csv.records:
        row, reasons = _row(record, target)
        identity = _identity(record, seen_content)
        if identity in first_line:
            reasons.append(
                f"external_id '{record.values['external_id'].strip()}' is also on line {first_line[identity]}"
            )
        first_line.setdefault(identity, record.line)
        if reasons:
            outcome.rejected.append(Rejection(record.line, "; ".join(reasons)))
            continue
        row["response_id"] = stable_id("tp", target.service, target.quarter.label, identity)
        if row["response_id"] in known:
            outcome.already += 1
            continue
        known.add(row["response_id"])
        rows.append(row)
    outcome.imported = len(rows)
    outcome.written = store.write(data_dir, contract.RESPONSES, responses_frame(rows), "touchpoints")
    return outcome


def _identity(record: Record, seen: Counter[str]) -> str:
    """Who the row is: its external_id, else its answers and how many identical rows came before it
    (two respondents may answer alike; the same file imported again gives the same identities)."""
    external = record.values["external_id"].strip()
    if external and external != NULL:
        return f"external_id={external}"
    content = "|".join(f"{c}={record.values.get(c, '').strip()}" for c in (*COLUMNS, *DATE_COLUMNS))
    seen[content] += 1
    return f"{content}#{seen[content]}"


def _row(record: Record, target: Target) -> tuple[dict[str, Any], list[str]]:
    """Return the contract row of one export line and the reasons it cannot be imported."""
    values = {name: text.strip() for name, text in record.values.items()}
    reasons: list[str] = []
    thumbs = target.survey_type == "thumbs_up_down"
    trust_text = values["question_1"]
    allowed = ("0", "1") if thumbs else ("1", "2", "3", "4", "5")
    trust: int | None = None
    if trust_text in ("", NULL):
        reasons.append("question_1 (trust) is empty; every respondent answers it")
    elif trust_text not in allowed:
        scale = "0 (thumbs down) or 1 (thumbs up)" if thumbs else "1 to 5"
        reasons.append(
            f"question_1 (trust): value '{trust_text}' is not {scale} on the {target.survey_type} scale"
        )
    else:
        trust = int(trust_text)
    positive = trust is not None and (trust == 1 if thumbs else trust >= 4)
    drivers: dict[str, int | None] = {}
    for column in DRIVER_COLUMNS:
        text = values[column]
        if text in ("", NULL):
            drivers[column] = None
        elif text in ("0", "1"):
            drivers[column] = int(text)
            shown = positive if column.startswith("positive_") else not positive
            if trust is not None and not shown:
                follows = "a positive" if column.startswith("positive_") else "a negative or neutral"
                reasons.append(
                    f"{column}: value '{text}', but this checklist follows only {follows} trust answer "
                    f"(question_1 is {trust})"
                )
        else:
            reasons.append(
                f"{column}: value '{text}' is not 1 (selected), 0 (not selected) or null (not offered)"
            )
    submitted = _submitted(values, target.quarter, reasons)
    comment = values["question_4"]
    row = response_row(
        submitted_at=submitted,
        service=target.service,
        channel=target.channel,
        segment=target.segment,
        survey_version="v2",
        trust_scale="thumbs" if thumbs else "five_point",
        trust=trust,
        comment=None if comment in ("", NULL) else record.values["question_4"],
        **drivers,
    )
    return row, reasons


def _submitted(values: dict[str, str], quarter: FiscalQuarter, reasons: list[str]) -> datetime:
    """Return when the response came in: its date when the export has one, else the quarter's first day."""
    column = next((c for c in DATE_COLUMNS if values.get(c, "") not in ("", NULL)), None)
    start = datetime(quarter.start.year, quarter.start.month, quarter.start.day)
    if column is None:
        return start
    text = values[column]
    try:
        # Touchpoints writes "2025-01-14 15:32:10 UTC"; the wall-clock time is kept as written.
        moment = datetime.fromisoformat(text.removesuffix(" UTC").replace(" ", "T", 1)).replace(tzinfo=None)
    except ValueError:
        reasons.append(f"{column}: value '{text}' is not a date such as 2025-01-14 or 2025-01-14 15:32:10")
        return start
    if FiscalQuarter.of(moment.date()) != quarter:
        reasons.append(
            f"{column}: {moment:%Y-%m-%d} is in {FiscalQuarter.of(moment.date())}, not {quarter} "
            f"({quarter.start:%Y-%m-%d} to {quarter.end:%Y-%m-%d})"
        )
    return moment
