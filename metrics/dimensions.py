"""The dimensions every metric can be filtered and broken down by, with labels and display order."""

from __future__ import annotations

from dataclasses import dataclass

from metrics import contract


@dataclass(frozen=True)
class Dimension:
    """A column the engine may group and filter on, when a metric's rows carry it."""

    name: str
    label: str
    kind: str  # "time", "organisation", "equity" or "survey"
    order: tuple[str, ...] | None = None  # display order; None sorts values as text


WAIT_BANDS = ("Under 2 min", "2-5 min", "5-10 min", "10-20 min", "20 min or more")

DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("fiscal_quarter", "Fiscal quarter", "time"),
        Dimension("fiscal_year", "Fiscal year", "time"),
        Dimension("month", "Month", "time"),
        Dimension("service", "Service", "organisation"),
        Dimension("channel", "Channel", "organisation", contract.CHANNELS),
        Dimension("segment", "Customer segment", "organisation"),
        Dimension("journey_stage", "Journey stage", "organisation", contract.JOURNEY_STAGES),
        Dimension("age_band", "Age band", "equity", contract.AGE_BANDS),
        Dimension("race_ethnicity", "Race and ethnicity", "equity", contract.RACE_ETHNICITY),
        Dimension("income_band", "Income band", "equity", contract.INCOME_BANDS),
        Dimension("urbanicity", "Urban / suburban / rural", "equity", contract.URBANICITY),
        Dimension("language", "Preferred language", "equity"),
        Dimension("disability", "Disability", "equity", contract.DISABILITY),
        Dimension("veteran_status", "Veteran status", "equity", contract.VETERAN_STATUS),
        Dimension("survey_version", "Survey version", "survey", contract.SURVEY_VERSIONS),
        Dimension("trust_scale", "Trust scale", "survey", contract.TRUST_SCALES),
        Dimension("wait_band", "Wait before answer", "survey", WAIT_BANDS),
    )
}

TIME_DIMENSIONS = tuple(d.name for d in DIMENSIONS.values() if d.kind == "time")
EQUITY_DIMENSIONS = tuple(d.name for d in DIMENSIONS.values() if d.kind == "equity")


def sort_key(dimension: str, value: str | None) -> tuple[int, str]:
    """Return a key that sorts a dimension's values in display order, unknown values last by text."""
    order = DIMENSIONS[dimension].order
    if value is None:
        return (len(order or ()) + 1, "")
    if order and value in order:
        return (order.index(value), "")
    # "Not reported" always closes a list, after any value the order does not know.
    last = value == contract.NOT_REPORTED
    return (len(order or ()) + (1 if last else 0), value)
