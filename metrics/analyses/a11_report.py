"""The quarterly A-11 Section 280 submission: per service, customers served and offered, respondents,
response rate, the trust question as asked, answer counts per item, and whether it is ready to send.

The submission carries true counts (it goes to OMB); `shown` hides small cells for the pages."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from metrics.contract import A11_ITEMS, COLLECTION_DETAILS, V2_DRIVERS
from metrics.errors import CxError
from metrics.fiscal import FiscalQuarter
from metrics.formatting import SUPPRESSED
from metrics.query import Engine
from metrics.sqlfiles import read_sql
from metrics.suppression import hidden_rows

RED, YELLOW, GREEN = "red", "yellow", "green"
READINESS = {RED: "Not ready", YELLOW: "Check before sending", GREEN: "Ready"}
# Every submission file has these count columns, in this order, whatever the quarter holds.
COUNT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    *((f"{item}_{a}", item, str(a)) for item in A11_ITEMS for a in range(1, 6)),
    ("trust_thumbs_up", "trust_thumbs", "up"),
    ("trust_thumbs_down", "trust_thumbs", "down"),
    *((f"went_well_{d}", "went_well", d) for d in V2_DRIVERS),
    *((f"could_improve_{d}", "could_improve", d) for d in V2_DRIVERS),
)
# The columns of a collection detail in GSA Touchpoints' CSV, in its order (those our data has), then
# whether the collection may be published; the answer counts follow (COUNT_COLUMNS).
DETAIL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("organization_name", "organization"),
    ("cx_collection_fiscal_year", "fiscal_year"),
    ("cx_collection_quarter", "quarter"),
    ("cx_collection_name", "survey_title"),
    ("cx_collection_service_provider_name", "service_provider"),
    ("service_name", "service"),
    ("transaction_point", "transaction_point"),
    ("channel", "channel"),
    ("service_stage_name", "service_stage"),
    ("volume_of_customers", "customers_served"),
    ("volume_of_customers_provided_survey_opportunity", "customers_offered"),
    ("volume_of_respondents", "respondents"),
    ("omb_control_number", "omb_control_number"),
    ("federal_register_url", "federal_register_url"),
    ("reflection_text", "reflection_text"),
    ("survey_type", "survey_type"),
    ("survey_title", "survey_title"),
    ("trust_question_text", "trust_question_text"),
    ("publishable", "publishable"),
)
DETAIL_KEY = ("service", "channel", "trust_question_text", "survey_type")
SUMMARY_COLUMNS = (
    "fiscal_quarter",
    "service",
    "readiness",
    "reasons",
    "channels",
    "customers_served",
    "customers_offered",
    "respondents",
    "response_rate",
    "trust_question_text",
    "survey_type",
)


@dataclass(frozen=True)
class A11Report:
    """One quarter's submission: a collection detail per service, channel and trust question as worded
    and scaled (`details`, with its answer counts `detail_counts`), the v2 respondents' answers
    (`respondents`), and per service its readiness (`services`) and answer counts (`counts`)."""

    quarter: FiscalQuarter
    services: pl.DataFrame  # SUMMARY_COLUMNS, then `ready_*` helpers
    counts: pl.DataFrame  # service, question, answer, answers, answered
    hidden: frozenset[tuple[str, str]] = frozenset()  # (service, statistic) pairs `shown` hid
    hidden_services: frozenset[str] = frozenset()  # services whose respondents `shown` hid
    details: pl.DataFrame = field(default_factory=pl.DataFrame)  # DETAIL_KEY, volumes, collection fields
    detail_counts: pl.DataFrame = field(default_factory=pl.DataFrame)  # DETAIL_KEY, question, answer, ...
    respondents: pl.DataFrame = field(default_factory=pl.DataFrame)  # Touchpoints' respondent columns

    @property
    def due(self) -> date:
        """A-11 asks for the quarter's data within 30 days of its end."""
        return self.quarter.end + timedelta(days=30)

    def submission(self) -> pl.DataFrame:
        """Return the submission in the shape OMB collects through Touchpoints: one row per collection
        detail, its fields under Touchpoints' names, then every answer count (0 where nobody gave it)."""
        counts = {
            (*(row[k] for k in DETAIL_KEY), row["question"], row["answer"]): row["answers"]
            for row in self.detail_counts.iter_rows(named=True)
        }
        details = self.details.with_columns(
            pl.lit(str(self.quarter.year)).alias("fiscal_year"),
            pl.lit(str(self.quarter.quarter)).alias("quarter"),
        )
        columns: dict[str, list[Any]] = {name: details[source].to_list() for name, source in DETAIL_COLUMNS}
        keys = [tuple(row[k] for k in DETAIL_KEY) for row in details.iter_rows(named=True)]
        for name, question, answer in COUNT_COLUMNS:
            columns[name] = [counts.get((*key, question, answer), 0) for key in keys]
        schema = {name: details.schema[source] for name, source in DETAIL_COLUMNS} | {
            c: pl.Int64 for c, _, _ in COUNT_COLUMNS
        }
        return pl.DataFrame(columns, schema=schema)

    def summary(self) -> pl.DataFrame:
        """Return the summary the Reporting page offers: one row per service, readiness then every
        count column."""
        wide = {
            (row["service"], row["question"], row["answer"]): row["answers"]
            for row in self.counts.iter_rows(named=True)
        }
        columns: dict[str, list[Any]] = {c: self.services[c].to_list() for c in SUMMARY_COLUMNS}
        for name, question, answer in COUNT_COLUMNS:
            # No row means nobody gave the answer: 0, unless the whole statistic is hidden.
            columns[name] = [
                wide.get(
                    (s, question, answer), None if (s, _statistic(question, answer)) in self.hidden else 0
                )
                for s in self.services["service"]
            ]
        schema = {c: self.services.schema[c] for c in SUMMARY_COLUMNS} | {
            c: pl.Int64 for c, _, _ in COUNT_COLUMNS
        }
        return pl.DataFrame(columns, schema=schema)


def a11_report(engine: Engine, quarter: FiscalQuarter) -> A11Report:
    """Return the quarter's submission from the responses and collections inputs."""
    engine.warehouse.require(frozenset({"responses", "collections"}), "the A-11 report")
    params: dict[str, object] = {"fiscal_quarter": quarter.label}
    services = _frame(engine, "a11_services.sql", params)
    detail_counts = _frame(engine, "a11_answer_counts.sql", params)
    if services.is_empty():
        raise CxError(f"no survey responses or collections in {quarter}: nothing to report")
    details = _details(_frame(engine, "a11_collections.sql", params), detail_counts)
    counts = (
        detail_counts.group_by("service", "question", "answer", maintain_order=True)
        .agg(pl.col("answers").sum(), pl.col("answered").sum())
        .sort("service", "question", "answer")
    )
    missing = _missing_fields(details)
    services = services.with_columns(
        pl.col("service")
        .replace_strict(missing, default=[], return_dtype=pl.List(pl.String))
        .alias("missing_fields")
    )
    judged = [_readiness(row) for row in services.iter_rows(named=True)]
    services = services.with_columns(
        pl.lit(quarter.label).alias("fiscal_quarter"),
        pl.Series("readiness", [status for status, _ in judged]),
        pl.Series("reasons", ["; ".join(reasons) for _, reasons in judged]),
        pl.col("channels").list.join(", "),
        pl.col("trust_wordings").list.join(" | ").alias("trust_question_text"),
        pl.col("survey_types").list.join(", ").alias("survey_type"),
    )
    respondents = _frame(engine, "a11_responses.sql", params, column="service_name")
    return A11Report(
        quarter, services, counts, details=details, detail_counts=detail_counts, respondents=respondents
    )


def _details(collections: pl.DataFrame, detail_counts: pl.DataFrame) -> pl.DataFrame:
    """Return one row per collection detail: each collection with its respondents, and each trust
    question as worded and scaled in a channel that no collection names, without volumes. A
    respondent answers the trust question, so a detail's respondents are those who answered it."""
    respondents = (
        detail_counts.filter(pl.col("question").is_in(["trust", "trust_thumbs"]))
        .group_by(DETAIL_KEY, maintain_order=True)
        .agg(pl.col("answered").first().alias("respondents"))
    )
    return (
        collections.join(respondents, on=list(DETAIL_KEY), how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("respondents").fill_null(0))
        .sort(list(DETAIL_KEY), nulls_last=True)
    )


def unpublishable(report: A11Report) -> frozenset[str]:
    """Return the services with a collection this quarter that is not cleared for public release."""
    found = report.details.filter(pl.col("publishable").not_().fill_null(False))
    return frozenset(found["service"].to_list())


def _missing_fields(details: pl.DataFrame) -> dict[str, list[str]]:
    """Return, per service, the collection-detail fields (COLLECTION_DETAILS) its collections leave
    empty (a detail without a collection is already not ready: its volumes are unknown)."""
    missing: dict[str, list[str]] = {}
    for row in details.filter(pl.col("customers_offered").is_not_null()).iter_rows(named=True):
        for name in COLLECTION_DETAILS:
            if row[name] is None and name not in missing.setdefault(row["service"], []):
                missing[row["service"]].append(name)
    return missing


def _frame(engine: Engine, name: str, params: dict[str, object], column: str = "service") -> pl.DataFrame:
    """Return a report query's rows about the services the engine answers about."""
    return engine.visible(engine.warehouse.frame(read_sql(Path("reports") / name), params), column)


def _readiness(row: dict[str, Any]) -> tuple[str, list[str]]:
    """Return red, yellow or green and the reasons: red cannot be sent, yellow needs a look."""
    red, yellow = [], []
    if not row["trust_answers"]:
        red.append("no answers to the trust question, which A-11 requires")
    if row["customers_offered"] is None:
        red.append("customers served and offered unknown: import them with `cx import collections`")
    if row["missing_fields"]:
        yellow.append(
            "collection details not given in the collections input: " + ", ".join(row["missing_fields"])
        )
    if not row["driver_answers"]:
        yellow.append("drivers missing: no answers beyond the trust question")
    if row["channels_asked_two_ways"]:
        yellow.append(
            "trust question worded or scaled more than one way in one channel this quarter "
            f"({', '.join(row['channels_asked_two_ways'])})"
        )
    if row["channels_without_collections"] and row["customers_offered"] is not None:
        left_out = row["respondents"] - row["respondents_in_collections"]
        yellow.append(
            f"{left_out} respondents in channels with no customers offered "
            f"({', '.join(row['channels_without_collections'])}) are left out of the response rate"
        )
    if row["customers_offered"] is not None and row["respondents_in_collections"] > row["customers_offered"]:
        yellow.append("more respondents than customers offered the survey")
    if row["has_respondent_rows"] and row["has_answer_counts"]:
        yellow.append(
            "answers come from both respondent rows and aggregated counts: check no one is counted twice"
        )
    if red:
        return RED, red + yellow
    if yellow:
        return YELLOW, yellow
    return GREEN, ["trust answered, drivers answered, customers served and offered known"]


def shown(report: A11Report, min_n: int) -> A11Report:
    """Return the report as pages show it, under the same rule as every statistic: respondents and
    response rate hidden for a service with fewer than `min_n` respondents; all the answer counts of
    an item hidden when fewer than `min_n` answered it (a driver's when fewer were shown it); and, as
    complementary suppression, one more service's cell where a lone hidden one could be worked out
    from the totals other pages show."""
    services = report.services
    hide = _hidden(services["service"].to_list(), services["respondents"].to_list(), min_n)
    services = services.with_columns(
        pl.when(pl.Series(hide)).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("respondents", "response_rate")
    )
    answered = {
        (row["service"], _statistic(row["question"], row["answer"])): row["answered"]
        for row in report.counts.iter_rows(named=True)
    }
    hidden: set[tuple[str, str]] = set()
    for statistic in sorted({key[1] for key in answered}):
        cells = [(service, n) for (service, stat), n in answered.items() if stat == statistic]
        flags = _hidden([c[0] for c in cells], [c[1] for c in cells], min_n)
        hidden |= {(service, statistic) for (service, _), flag in zip(cells, flags, strict=True) if flag}
    mask = [
        (row["service"], _statistic(row["question"], row["answer"])) in hidden
        for row in report.counts.iter_rows(named=True)
    ]
    counts = report.counts.with_columns(
        pl.when(pl.Series(mask, dtype=pl.Boolean)).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("answers", "answered")
    )
    hidden_services = frozenset(s for s, flag in zip(services["service"], hide, strict=True) if flag)
    return dataclasses.replace(
        report, services=services, counts=counts, hidden=frozenset(hidden), hidden_services=hidden_services
    )


def _statistic(question: str, answer: str) -> str:
    """Name the statistic a count belongs to: an item's counts share one denominator, a driver has its own."""
    return f"{question}_{answer}" if question in ("went_well", "could_improve") else question


def _hidden(services: Sequence[str], n: Sequence[int | None], min_n: int) -> list[bool]:
    cells: list[dict[str, object]] = [
        {"service": s, "n": count} for s, count in zip(services, n, strict=True)
    ]
    hidden = hidden_rows(cells, ["service"], min_n)
    return [i in hidden for i in range(len(cells))]


def submission_csv(report: A11Report) -> str:
    """Return the submission as OMB collects it (a collection detail per row), with the true counts."""
    return report.submission().write_csv()


def respondents_csv(report: A11Report) -> str:
    """Return the v2 respondents' answers in Touchpoints' respondent format, for its upload."""
    return report.respondents.write_csv()


def summary_csv(report: A11Report, hidden_marked: bool = False) -> str:
    """Return the per-service summary as CSV; `hidden_marked` writes the cells `shown` hid as the
    suppression symbol (an unknown value, such as a response rate without customers offered, stays
    empty)."""
    frame = report.summary()
    if not hidden_marked:
        return frame.write_csv()
    text = frame.with_columns(pl.all().cast(pl.String))
    services = pl.col("service")
    hidden_service = services.is_in(list(report.hidden_services))
    known_rate = (pl.col("customers_offered").cast(pl.Int64) > 0).fill_null(False)
    marked = [
        pl.when(hidden_service)
        .then(pl.lit(SUPPRESSED))
        .otherwise(pl.col("respondents"))
        .alias("respondents"),
        pl.when(hidden_service & known_rate)
        .then(pl.lit(SUPPRESSED))
        .otherwise(pl.col("response_rate"))
        .alias("response_rate"),
    ]
    for name, question, answer in COUNT_COLUMNS:
        statistic = _statistic(question, answer)
        hidden = [service for service, stat in report.hidden if stat == statistic]
        marked.append(
            pl.when(services.is_in(hidden)).then(pl.lit(SUPPRESSED)).otherwise(pl.col(name)).alias(name)
        )
    return text.with_columns(marked).write_csv()
