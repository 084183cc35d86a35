"""Touchpoints' A-11 v2 respondent export (CSV) -> rows of the responses input, one per respondent.

Every value arrives as text and "null" means not offered. The export carries no service, quarter,
channel, segment or equity: the service and quarter are given, channel and segment default to `other`
and `Not reported`, equity is `Not reported`.

Its `created_at` is when the row reached Touchpoints (uploads are due after the quarter ends), not
when the customer answered: rows are dated to the first day of the quarter named, unless the file
has a true `submitted_at`, which is then used and checked against that quarter. A time given in UTC
or with an offset is converted to the agency's time zone first."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from metrics import contract
from metrics.fiscal import FiscalQuarter
from metrics.imports import store
from metrics.imports.csvfile import Record, Rejection, read_csv
from metrics.imports.rows import response_row, responses_frame, stable_id
from metrics.settings import DEFAULT_TIME_ZONE

DRIVER_COLUMNS = tuple(f"{side}_{d}" for side in ("positive", "negative") for d in contract.V2_DRIVERS)
COLUMNS = ("external_id", "question_1", *DRIVER_COLUMNS, "question_4")
# Read when there: created_at (the upload time, kept only to tell rows apart) and submitted_at (when
# the customer answered, where a file carries it).
DATE_COLUMNS = ("created_at", "submitted_at")
UPLOADED = "created_at"
ANSWERED = "submitted_at"
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
    time_zone: str = DEFAULT_TIME_ZONE  # the agency's: times in UTC or with an offset become local


def import_touchpoints(path: Path, data_dir: Path, target: Target) -> store.Outcome:
    """Validate every row of the export and add the new ones to the responses input."""
    store.require_data_dir(data_dir)
    csv = read_csv(path, COLUMNS, DATE_COLUMNS)
    outcome = store.Outcome(path.name, read=len(csv.records) + len(csv.rejected), rejected=list(csv.rejected))
    if csv.ignored_columns:
        outcome.notes.append(
            f"Columns not in the Touchpoints format were ignored: {', '.join(csv.ignored_columns)}."
        )
    if UPLOADED in csv.columns and ANSWERED not in csv.columns:
        outcome.notes.append(
            f"{UPLOADED} is when Touchpoints received the upload, not when the customer answered: the rows "
            f"are dated {target.quarter.start:%Y-%m-%d}, the first day of {target.quarter}."
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
    submitted = _submitted(values, target, reasons)
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


def _submitted(values: dict[str, str], target: Target, reasons: list[str]) -> datetime:
    """Return when the customer answered: the file's submitted_at, in the agency's local time and
    within the quarter, else the quarter's first day (created_at is the upload, not the answer)."""
    quarter = target.quarter
    start = datetime(quarter.start.year, quarter.start.month, quarter.start.day)
    text = values.get(ANSWERED, "")
    if text in ("", NULL):
        return start
    moment = local_time(text, target.time_zone)
    if moment is None:
        reasons.append(
            f"{ANSWERED}: value '{text}' is not a time such as 2025-01-14, 2025-01-14 15:32:10 or "
            "2025-01-14 15:32:10 UTC"
        )
        return start
    if FiscalQuarter.of(moment.date()) != quarter:
        reasons.append(
            f"{ANSWERED}: {moment:%Y-%m-%d} (in {target.time_zone}) is in {FiscalQuarter.of(moment.date())}, "
            f"not {quarter} ({quarter.start:%Y-%m-%d} to {quarter.end:%Y-%m-%d})"
        )
    return moment


def local_time(text: str, time_zone: str) -> datetime | None:
    """Return a written time as the agency's wall-clock time: one in UTC ("... UTC", "Z") or with an
    offset is converted to `time_zone`; one without is taken as already local. None if unreadable."""
    written = text.strip()
    utc = written.endswith(" UTC")
    try:
        moment = datetime.fromisoformat(written.removesuffix(" UTC").replace(" ", "T", 1))
    except ValueError:
        return None
    if utc:
        moment = moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
