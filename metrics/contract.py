"""The data contract: every input file, its columns, types and allowed values (inputs -> staging)."""

from __future__ import annotations

from dataclasses import dataclass

NOT_REPORTED = "Not reported"
# Rules every column of a type follows, beyond its own allowed values and range: a text value longer
# than this is a broken export (a whole file pasted into a cell), not a name or a comment, and would
# swamp every page that shows it; a timestamp after the moment of checking has not happened yet.
MAX_TEXT_LENGTH = 10_000

# Channel keys follow GSA Touchpoints' channel list so exports line up with A-11 submissions.
# Which of them count as self-service lives in sql/seeds/channels.csv, next to the SQL that uses it.
CHANNELS: tuple[str, ...] = (
    "computer",
    "mobile",
    "email",
    "chatbot",
    "phone",
    "automated_phone",
    "in_person",
    "paper",
    "postal_mail",
    "fax",
    "self_service_kiosk",
    "website",
    "mobile_app",
    "live_chat",
    "sms_text_messages",
    "social_media",
    "other_digital",
    "other_non_digital",
    "other",
)

JOURNEY_STAGES: tuple[str, ...] = ("Learn", "Apply", "Wait", "Decision", "Follow-up", NOT_REPORTED)

AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+", NOT_REPORTED)
RACE_ETHNICITY: tuple[str, ...] = (
    "American Indian or Alaska Native",
    "Asian",
    "Black or African American",
    "Hispanic or Latino",
    "Middle Eastern or North African",
    "Native Hawaiian or Pacific Islander",
    "White",
    "Two or more",
    NOT_REPORTED,
)
INCOME_BANDS: tuple[str, ...] = (
    "Under $25k",
    "$25k-$50k",
    "$50k-$100k",
    "$100k and over",
    NOT_REPORTED,
)
URBANICITY: tuple[str, ...] = ("Urban", "Suburban", "Rural", NOT_REPORTED)
DISABILITY: tuple[str, ...] = ("Yes", "No", NOT_REPORTED)
VETERAN_STATUS: tuple[str, ...] = ("Veteran", "Not a veteran", NOT_REPORTED)

SURVEY_VERSIONS: tuple[str, ...] = ("v1", "v2")
TRUST_SCALES: tuple[str, ...] = ("five_point", "thumbs")
SURVEY_TYPES: tuple[str, ...] = ("likert_scale", "thumbs_up_down")
# How a survey type reads to people.
SURVEY_TYPE_WORDS = {"likert_scale": "five-point scale", "thumbs_up_down": "thumbs up or down"}
# A responses row is one respondent's answers, or an aggregated count of one answer to one A-11 item.
ROW_KINDS: tuple[str, ...] = ("respondent", "answer_count")

A11_ITEMS: tuple[str, ...] = (
    "trust",
    "satisfaction",
    "effectiveness",
    "ease",
    "efficiency",
    "transparency",
    "employee",
    "humanity",
)
V2_DRIVERS: tuple[str, ...] = (
    "effectiveness",
    "ease",
    "efficiency",
    "transparency",
    "humanity",
    "employee",
    "other",
)


@dataclass(frozen=True)
class Column:
    """One column of an input: its DuckDB type, the values it may hold and what null means."""

    name: str
    type: str
    description: str
    null_means: str | None = None  # None: the column must not be null
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    default: str | None = None  # set when the column may be left out of the file
    omitted_is_null: bool = False  # a nullable column that may be left out: every row is then null
    free_text: bool = False  # what customers wrote: personal details are redacted as it is read

    @property
    def nullable(self) -> bool:
        return self.null_means is not None

    @property
    def optional(self) -> bool:
        """Whether the column may be left out of the file."""
        return self.default is not None or self.omitted_is_null


@dataclass(frozen=True)
class Input:
    """One input: a parquet file `<name>.parquet` or a folder `<name>/` of parquet files."""

    name: str
    grain: str
    key: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        """Return the column called `name`."""
        return next(c for c in self.columns if c.name == name)


def _equity(default: str | None = None) -> tuple[Column, ...]:
    known = "Self-reported by the customer; never inferred. `Not reported` when not given."
    return (
        Column("age_band", "VARCHAR", known, allowed=AGE_BANDS, default=default),
        Column("race_ethnicity", "VARCHAR", known, allowed=RACE_ETHNICITY, default=default),
        Column("income_band", "VARCHAR", known, allowed=INCOME_BANDS, default=default),
        Column(
            "urbanicity",
            "VARCHAR",
            "Urban, suburban or rural home address. " + known,
            allowed=URBANICITY,
            default=default,
        ),
        Column(
            "language",
            "VARCHAR",
            "Preferred language, in English (e.g. `Spanish`). " + known,
            default=default,
        ),
        Column("disability", "VARCHAR", known, allowed=DISABILITY, default=default),
        Column("veteran_status", "VARCHAR", known, allowed=VETERAN_STATUS, default=default),
    )


def _item(name: str, what: str) -> Column:
    return Column(
        name,
        "TINYINT",
        f"A-11 item: {what}. 1 = Strongly disagree ... 5 = Strongly agree.",
        null_means="not asked, skipped or not applicable: left out of this item's denominator only",
        minimum=1,
        maximum=5,
    )


def _driver(prefix: str, driver: str) -> Column:
    side = "what went well" if prefix == "positive" else "what could be improved"
    return Column(
        f"{prefix}_{driver}",
        "TINYINT",
        f"v2 checklist '{side}': {driver}. 1 = selected, 0 = offered and not selected.",
        null_means="not offered (v1 survey, or the other checklist was shown)",
        minimum=0,
        maximum=1,
    )


_SERVICE = Column("service", "VARCHAR", "The service, as the agency names it (e.g. `Passport Services`).")
_CHANNEL = Column(
    "channel", "VARCHAR", "Touchpoints channel key (see sql/seeds/channels.csv).", allowed=CHANNELS
)
_SEGMENT = Column(
    "segment",
    "VARCHAR",
    "Customer segment, e.g. `Travelers`, `Disaster survivors`, `Employees` (internal customers).",
)

RESPONSES = Input(
    name="responses",
    grain=(
        "One row per survey respondent (`row_kind` `respondent`), or per aggregated count of one answer "
        "to one A-11 item (`row_kind` `answer_count`, `weight` = the count)."
    ),
    key="response_id",
    columns=(
        Column("response_id", "VARCHAR", "Unique id of the response."),
        Column("submitted_at", "TIMESTAMP", "When the response was submitted, agency local time."),
        _SERVICE,
        _CHANNEL,
        _SEGMENT,
        Column(
            "journey_stage",
            "VARCHAR",
            "Journey stage the survey followed.",
            allowed=JOURNEY_STAGES,
        ),
        Column(
            "survey_version",
            "VARCHAR",
            "`v1`: the 2018 A-11 battery of 5-point items. `v2`: the Touchpoints trust question "
            "followed by went-well / could-improve checklists.",
            allowed=SURVEY_VERSIONS,
        ),
        Column(
            "trust_scale",
            "VARCHAR",
            "Scale of the trust question: `five_point` (1-5) or `thumbs` (1 = up, 0 = down).",
            allowed=TRUST_SCALES,
        ),
        Column(
            "trust",
            "TINYINT",
            "A-11 trust item. 1-5 on the five-point scale; 1 (up) or 0 (down) on thumbs.",
            null_means="not answered",
            minimum=0,
            maximum=5,
        ),
        _item("satisfaction", "I am satisfied with the service I received"),
        _item("effectiveness", "My need was addressed"),
        _item("ease", "It was easy to complete what I needed to do"),
        _item("efficiency", "It took a reasonable amount of time"),
        _item("transparency", "I understood what was being asked of me"),
        _item("employee", "Employees I interacted with were helpful"),
        _item("humanity", "I was treated fairly and with respect"),
        *(_driver("positive", d) for d in V2_DRIVERS),
        *(_driver("negative", d) for d in V2_DRIVERS),
        Column(
            "comment",
            "VARCHAR",
            "Free-text comment. Personal details (e-mail addresses, phone numbers, ID and case numbers, "
            "street addresses, links, names) are replaced by what they were, e.g. `[phone]`, as it is read.",
            null_means="no comment",
            free_text=True,
        ),
        Column(
            "contact_id",
            "VARCHAR",
            "The contact (call, chat, visit) the survey followed: a `contact_id` of the contacts input.",
            null_means="not linked to a contact",
        ),
        *_equity(),
        Column(
            "weight",
            "INTEGER",
            "How many respondents the row stands for: 1 for a respondent row, the count for an "
            "aggregated answer-count row.",
            minimum=1,
        ),
        Column(
            "row_kind",
            "VARCHAR",
            "`respondent`: the answers of one respondent (or of `weight` identical ones). `answer_count`: "
            "`weight` answers of one value to one A-11 item, every other item and checklist null (from "
            "`cx import likert-counts`). Item metrics read both alike. Respondent counts (Responses, "
            "response rate) take an answer-count row only when it counts trust answers: every respondent "
            "answers the required trust question, so trust's counts are the respondents.",
            allowed=ROW_KINDS,
            default="respondent",
        ),
        Column(
            "question_text",
            "VARCHAR",
            "Wording of the item an `answer_count` row counts, as asked; a change between quarters is "
            "marked on trends.",
            null_means="a respondent row: the trust wording is in the collections input",
            omitted_is_null=True,
        ),
    ),
)

CONTACTS = Input(
    name="contacts",
    grain="One row per contact-center or in-person interaction that entered a queue.",
    key="contact_id",
    columns=(
        Column("contact_id", "VARCHAR", "Unique id of the contact."),
        Column("started_at", "TIMESTAMP", "When the customer entered the queue, agency local time."),
        _SERVICE,
        _CHANNEL,
        _SEGMENT,
        Column(
            "journey_stage",
            "VARCHAR",
            "Journey stage the contact was about.",
            allowed=JOURNEY_STAGES,
            default=NOT_REPORTED,
        ),
        Column(
            "queue_wait_seconds",
            "DOUBLE",
            "Seconds from queue entry to answer, or to hang-up when abandoned.",
            minimum=0,
        ),
        Column(
            "handle_seconds",
            "DOUBLE",
            "Seconds an agent spent on the contact.",
            null_means="abandoned: never handled",
            minimum=0,
        ),
        Column("answered", "BOOLEAN", "true when an agent answered; false when the customer abandoned."),
        Column(
            "resolved_first_contact",
            "BOOLEAN",
            "true when the need was resolved on this contact.",
            null_means="not recorded, or abandoned",
        ),
        *_equity(default=NOT_REPORTED),
    ),
)

TRANSACTIONS = Input(
    name="transactions",
    grain="One row per completed service transaction (an application, renewal, claim...).",
    key="transaction_id",
    columns=(
        Column("transaction_id", "VARCHAR", "Unique id of the transaction."),
        Column("completed_at", "TIMESTAMP", "When the transaction was completed, agency local time."),
        _SERVICE,
        _CHANNEL,
        _SEGMENT,
        Column(
            "journey_stage",
            "VARCHAR",
            "Journey stage the transaction completed.",
            allowed=JOURNEY_STAGES,
            default=NOT_REPORTED,
        ),
        *_equity(default=NOT_REPORTED),
    ),
)

# What an A-11 collection detail names besides its volumes and trust question (GSA Touchpoints'
# collection details): optional columns of the collections input, each reported missing by the
# submission's readiness check when a quarter leaves it out.
COLLECTION_DETAILS: dict[str, str] = {
    "organization": "The agency submitting, as OMB knows it, e.g. `Department of State`.",
    "service_provider": "The High-Impact Service Provider the service belongs to.",
    "transaction_point": "Where in the service the survey is offered, e.g. `Passport renewal submitted`.",
    "service_stage": "The stage of the service the transaction point belongs to, e.g. `Apply`.",
    "survey_title": "The survey's title as the customer sees it.",
    "omb_control_number": "The Paperwork Reduction Act control number of the survey, e.g. `1405-0231`.",
    "federal_register_url": "The Federal Register notice of the collection.",
    "reflection_text": "What the service learned from the quarter's feedback and will do about it.",
}

COLLECTIONS = Input(
    name="collections",
    grain="One row per service, fiscal quarter and survey channel.",
    key="service, fiscal_year, fiscal_quarter, channel",
    columns=(
        _SERVICE,
        Column(
            "fiscal_year",
            "INTEGER",
            "Federal fiscal year, named by the year it ends.",
            minimum=2000,
            maximum=2100,
        ),
        Column("fiscal_quarter", "INTEGER", "Fiscal quarter 1-4 (Q1 = Oct-Dec).", minimum=1, maximum=4),
        _CHANNEL,
        Column("customers_served", "BIGINT", "Customers served in the quarter.", minimum=0),
        Column("customers_offered", "BIGINT", "Customers offered the survey.", minimum=0),
        Column("trust_question_text", "VARCHAR", "Exact wording of the trust question asked."),
        Column(
            "survey_type", "VARCHAR", "Touchpoints survey type of the trust question.", allowed=SURVEY_TYPES
        ),
        Column(
            "publishable",
            "BOOLEAN",
            "true when the collection's paperwork clearance allows public release.",
        ),
        *(
            Column(name, "VARCHAR", description, null_means="not given", omitted_is_null=True)
            for name, description in COLLECTION_DETAILS.items()
        ),
    ),
)

INPUTS: dict[str, Input] = {i.name: i for i in (RESPONSES, CONTACTS, TRANSACTIONS, COLLECTIONS)}


def polars_schema(spec: Input) -> dict[str, object]:
    """Return the Polars schema (column -> dtype) that writes an input exactly to contract."""
    from metrics.types import POLARS_TYPES

    return {c.name: POLARS_TYPES[c.type] for c in spec.columns}
