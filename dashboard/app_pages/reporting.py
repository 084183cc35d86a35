"""A-11 reporting: are we ready to submit the quarter to OMB? Readiness per service with its reasons,
the volumes and answer counts of the submission, and the file (small cells hidden, as on every page)."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboard import data, exhibits, state
from dashboard.filters import read_quarter
from metrics.analyses.a11_report import READINESS, summary_csv, unpublishable
from metrics.contract import SURVEY_TYPE_WORDS
from metrics.errors import CxError
from metrics.fiscal import latest_complete
from metrics.formatting import SUPPRESSED, format_value, suppression_note

# Readiness is said in words with a symbol, never by colour alone.
SHOWN_AS = {"red": "✖ Not ready", "yellow": "▲ Check before sending", "green": "✔ Ready"}
QUESTIONS = {"trust_thumbs": "Trust (thumbs)", "went_well": "Went well", "could_improve": "Could improve"}


def render() -> None:
    """Draw the page."""
    heading = st.container()
    quarters = data.options()["quarters"]
    if not quarters:
        heading.title("Are we ready to submit to OMB? A-11 reporting")
        st.error("No data found. Run `cx check` to see what is wrong with the inputs.")
        return
    latest = latest_complete(quarters, date.today()) or quarters[-1]
    quarter = state.select("Fiscal quarter to submit", quarters, "quarter", default=latest, read=read_quarter)
    exhibits.title(f"Are we ready to submit {quarter} to OMB? A-11 reporting", heading)
    try:
        report = data.a11_report(quarter)
    except CxError as error:
        st.error(str(error))
        return
    min_n = data.engine().min_n
    st.caption(
        "OMB Circular A-11 Section 280 asks for each quarter within 30 days of its end: "
        f"{_due(quarter, report.due)}. The submission covers every service and channel, so the sidebar's "
        "service, channel and segment filters do not apply here. Its counts are the true ones OMB collects; other "
        "pages publish counts adjusted by up to 2 to protect privacy, so a total may differ by that much."
    )
    services = report.services
    internal = unpublishable(report)
    st.header("Readiness")
    exhibits.table(
        f"Readiness to submit {quarter}",
        pl.DataFrame(
            {
                "Service": services["service"],
                "Readiness": [SHOWN_AS[r] for r in services["readiness"]],
                "Why": services["reasons"],
                # Not hidden but not known: no collections were imported for the service.
                "Customers served": [_known(v) for v in services["customers_served"]],
                "Offered the survey": [_known(v) for v in services["customers_offered"]],
                "Respondents": [
                    SUPPRESSED if s in report.hidden_services else _count(v)
                    for s, v in zip(services["service"], services["respondents"], strict=True)
                ],
                "Response rate": [
                    SUPPRESSED
                    if s in report.hidden_services and offered
                    else ("unknown" if v is None else format_value(v, "percent"))
                    for s, v, offered in zip(
                        services["service"],
                        services["response_rate"],
                        services["customers_offered"],
                        strict=True,
                    )
                ],
                "Trust question": services["trust_question_text"],
                "Survey type": [
                    ", ".join(SURVEY_TYPE_WORDS.get(k, k.replace("_", " ")) for k in t.split(", "))
                    if t
                    else ""
                    for t in services["survey_type"]
                ],
                # The submission carries the flag; the service's numbers elsewhere are internal only.
                "Publishable": ["no: internal only" if s in internal else "yes" for s in services["service"]],
            }
        ),
        wrap=True,
    )
    counts = report.counts
    st.header("Answer counts")
    st.caption(
        "Respondents giving each answer. Five-point items answer 1 (strongly disagree) to 5 (strongly agree); "
        "for the v2 checklists the answer is the driver selected, out of the respondents shown it."
    )
    exhibits.table(
        f"Answer counts, {quarter}",
        pl.DataFrame(
            {
                "Service": counts["service"],
                "Question": [QUESTIONS.get(q, q.capitalize()) for q in counts["question"]],
                "Answer": [_answer(a) for a in counts["answer"]],
                "Respondents": [_count(v) for v in counts["answers"]],
                "Answered or shown": [_count(v) for v in counts["answered"]],
            }
        ),
    )
    st.download_button(
        f"Download the {quarter} summary by service (CSV, small cells hidden)",
        # Written on click, not on every run.
        lambda: summary_csv(report, hidden_marked=True),
        file_name=f"a11-{quarter.replace(' ', '-')}-summary.csv",
        mime="text/csv",
        icon=":material/download:",
        # As every download here: a click that also reran the page would give the file a new id, and
        # on a busy server the file's request could arrive after the rerun and find nothing to send.
        on_click="ignore",
    )
    st.caption(
        f"{suppression_note(min_n)} The submission itself (one collection detail per service, channel and "
        "trust question, as Touchpoints collects it, with every count) and the v2 respondents' answers are "
        f"written by the person submitting with `cx report a11 --fiscal-year {quarter[2:6]} --quarter "
        f"{quarter[-1]}`. Readiness: "
        + "; ".join(f"{SHOWN_AS[k]} ({k}) = {v.lower()}" for k, v in READINESS.items())
        + "."
    )


def _answer(answer: str) -> str:
    """Return an answer as people read it: the scale's ends named, thumbs and drivers in words."""
    words = {
        "1": "1 (strongly disagree)",
        "5": "5 (strongly agree)",
        "up": "Thumbs up",
        "down": "Thumbs down",
    }
    return words.get(answer, answer.replace("_", " ").capitalize())


def _count(value: int | None) -> str:
    return format_value(value, "integer")


def _known(value: int | None) -> str:
    """A count the submission takes from the collections input: "unknown" without one, never †."""
    return "unknown" if value is None else format_value(value, "integer")


def _due(quarter: str, due: date, today: date | None = None) -> str:
    """When the quarter is due, and how long ago that was once it has passed."""
    today = today or date.today()
    if today <= due:
        return f"{quarter} is due by {due:%B %-d, %Y}"
    late = (today - due).days
    return f"{quarter} was due by {due:%B %-d, %Y}, {late} day{'s' if late != 1 else ''} ago"


render()
