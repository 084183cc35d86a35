"""The dimensions every metric can be filtered and broken down by, with labels and display order."""

from __future__ import annotations

from dataclasses import dataclass

from metrics import contract
from metrics.sqlfiles import read_seed


@dataclass(frozen=True)
class Dimension:
    """A column the engine may group and filter on, when a metric's rows carry it."""

    name: str
    label: str
    kind: str  # "time", "organisation", "equity" or "survey"
    order: tuple[str, ...] | None = None  # display order; None sorts values as text


# The bands of a contact's wait, in order: sql/seeds/wait_bands.csv, which the mart joins too.
WAIT_BANDS = tuple(row["wait_band"] for row in read_seed("wait_bands"))

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


# How one group of a dimension reads after "customers" in a sentence ("customers aged 65+"), so
# titles and lists built from choices read as words, not as a label glued to a value.
_PHRASES = {
    "fiscal_quarter": "in {value}",
    "fiscal_year": "in {value}",
    "month": "in {value}",
    "service": "using {value}",
    "channel": "served via {value}",
    "segment": "in the {value} segment",
    "journey_stage": "at the {value} stage",
    "age_band": "aged {value}",
    "race_ethnicity": "identifying as {value}",
    "income_band": "with household income {lower}",
    "urbanicity": "in {lower} areas",
    "language": "preferring {value}",
    "survey_version": "answering survey {value}",
    "trust_scale": "answering trust on the {value} scale",
    "wait_band": "who waited {lower}",
}
_VALUE_PHRASES = {
    ("disability", "Yes"): "with a disability",
    ("disability", "No"): "without a disability",
    ("veteran_status", "Veteran"): "who are veterans",
    ("veteran_status", "Not a veteran"): "who are not veterans",
}


def phrase(dimension: str, value: str, shown: str | None = None) -> str:
    """Return a group as words that follow "customers": phrase("age_band", "65+") is "aged 65+".
    `shown` is the value as a reader knows it (a channel's label) when it differs from the key."""
    if value == contract.NOT_REPORTED:
        return f"who did not report their {DIMENSIONS[dimension].label.lower()}"
    if (dimension, value) in _VALUE_PHRASES:
        return _VALUE_PHRASES[dimension, value]
    text = shown or value
    template = _PHRASES.get(dimension, DIMENSIONS[dimension].label.lower() + " {value}")
    return template.format(value=text, lower=text.lower())
