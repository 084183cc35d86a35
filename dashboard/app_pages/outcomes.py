"""Outcomes: are we delivering what customers need? Each outcome of config/outcomes/ with its
measures' progress towards their targets and its equity objective, judged by a rule the page states."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data, exhibits, state
from dashboard.briefing import Figure
from dashboard.filters import current
from metrics.analyses.outcomes import HIDDEN, RULE, OutcomeProgress, Progress, describe
from metrics.formatting import exact_number, format_value

# How each status reads at a glance: a word and a symbol, never colour alone.
_MARKS = {
    "on track": "✓",
    "at risk": "!",
    "off track": "✗",
    "hidden": "†",
    "unavailable": "?",
    "not asked": "\u2013",  # an en dash: asked nothing of, unlike "no data"
    "no data": "·",
}


def render() -> None:
    """Draw the page."""
    filters = current()
    quarter = filters.end
    exhibits.title("Are we delivering the outcomes customers need?")
    if quarter is None:
        st.info("No data for these filters.")
        return
    found, problems = data.outcomes()
    for problem in problems:
        st.warning(f"This outcome is left out: {problem}", icon=":material/error:")
    st.caption(
        f"As of {quarter} (the sidebar's To quarter). Each outcome is read for its own customers, service "
        "and channels, whatever the sidebar's service, channel and segment filters; small cells stay hidden."
    )
    with st.expander("How progress is judged"):
        st.markdown(RULE)
    engine = data.engine()
    shown = [o for o in found if o.service is None or engine.may_see(o.service)]
    if not shown:
        st.info("No outcomes are defined for the services you may see: add a file to config/outcomes/.")
        return
    figures = []
    for outcome, progress in zip(
        shown, data.outcomes_progress(tuple(o.name for o in shown), quarter), strict=True
    ):
        figures.append(Figure(outcome.customer, progress.headline, outcome.statement))
        _outcome(progress)
    exhibits.figures(figures)


def _outcome(progress: OutcomeProgress) -> None:
    outcome = progress.outcome
    st.header(f"{outcome.customer}: {_MARKS[progress.status]} {progress.headline}")
    st.markdown(f"*{state.inert(outcome.statement)}*")
    where = f" · {outcome.service}" if outcome.service else ""
    channels = (
        f" · channels: {', '.join(map(data.channel_label, outcome.channels))}" if outcome.channels else ""
    )
    st.caption(f"Owner: {outcome.owner}{where}{channels}")
    rows = list(progress.parts)
    # A measure with no value in any quarter shown (hidden, no data, its data unusable) is left off the
    # chart: its target drawn alone read as a line to reach with nothing to reach it. The table and the
    # words below keep every measure.
    drawn = [p for p in rows if any(v is not None for _, v in p.history)]
    heading = f"{outcome.customer}: progress towards the targets"
    if drawn:
        exhibits.chart(
            heading,
            charts.towards_targets(_trend_frame(drawn)),
            _table(rows),
            f"{outcome.customer}: " + " ".join(f"{p.label}: {describe(p)}" for p in rows),
            numbers=_numbers(rows, progress.equity),
            table_title="Progress in numbers",
        )
    else:
        exhibits.table(heading, _table(rows), numbers=_numbers(rows, progress.equity), wrap=True)
    for p in rows:
        st.markdown(f"**{_MARKS[p.status]} {p.label}.** {state.inert(describe(p))}")


def _trend_frame(rows: list[Progress]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"measure": p.label, "quarter": q, "value": v, "target": p.target, "format": p.format}
            for p in rows
            for q, v in p.history
        ],
        schema={
            "measure": pl.String,
            "quarter": pl.String,
            "value": pl.Float64,
            "target": pl.Float64,
            "format": pl.String,
        },
    )


def _table(rows: list[Progress]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Measure": [p.label for p in rows],
            "Latest": [format_value(p.latest, p.format) if p.latest is not None else p.status for p in rows],
            "Target": [
                f"{'at most' if p.direction == 'lower_is_better' else 'at least'} {format_value(p.target, p.format)}"
                for p in rows
            ],
            "By": [p.by for p in rows],
            "Status": [f"{_MARKS[p.status]} {p.status}" for p in rows],
            "Why": [p.reason for p in rows],
        }
    )


def _numbers(rows: list[Progress], gap: Progress | None) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "measure": [f"gap:{p.metric}" if p is gap else p.metric for p in rows],
            "quarter": [p.quarter for p in rows],
            "value": [p.latest for p in rows],
            # Text, so that the export's marks for a hidden value (†) or none ("no data") leave it be.
            "target": [exact_number(p.target) for p in rows],
            "by": [p.by for p in rows],
            "status": [p.status for p in rows],
            "reason": [p.reason for p in rows],
            "suppressed": [p.status == HIDDEN for p in rows],
        },
        schema_overrides={"value": pl.Float64},
    )


render()
