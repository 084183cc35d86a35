"""Drivers: what drives trust? Trust and ease by how long people waited, and the six A-11 drivers
ranked by their relative importance to trust against how well each performs."""

from __future__ import annotations

from typing import cast

import polars as pl
import streamlit as st

from dashboard import charts, data, exhibits, parts, state, tables
from dashboard.filters import current, describe
from metrics.analyses.drivers import (
    MIN_COMPLETE,
    WAIT_MEASURES,
    Importance,
    checklist_numbers,
    checklist_sizes,
    fix_first,
    fix_first_sentence,
    placement,
    unshown,
    wait_cost,
)
from metrics.formatting import SUPPRESSED, format_delta, format_statistic, format_value, suppression_note
from metrics.query import Filters

SPLITS = {"none": "No split", "channel": "Channel"}


def render() -> None:
    """Draw the page."""
    exhibits.title("What drives trust? Waits, drivers and where to act first")
    filters = current()
    st.caption(f"{describe(filters)}.")
    # Waits need contact records; the drivers need only survey answers: each part stands alone.
    with parts.part("Trust by wait"):
        _waits(filters)
    with parts.part("The drivers' importance"):
        _importance(filters)
    with parts.part("The v2 checklist"):
        _checklist(filters)
    st.caption(suppression_note(data.engine().min_n))


def _waits(filters: Filters) -> None:
    """Trust and ease by wait band, for responses linked to an answered contact."""
    st.header("Does waiting cost us trust?")
    left, right = st.columns(2)
    with left:
        name = state.select(
            "Measure",
            list(WAIT_MEASURES),
            "wait_metric",
            default=WAIT_MEASURES[0],
            format_func=data.choice,
        )
    with right:
        split = state.select(
            "Split by", list(SPLITS), "wait_split", default="none", format_func=lambda s: SPLITS[s]
        )
    metric = data.metric(name)
    split_by = split if split != "none" else None
    by = ["wait_band", *([split_by] if split_by else [])]
    found, ignored = data.by_wait(name, filters, split_by)
    result = data.labelled(found)
    if result.filter(~pl.col("suppressed")).is_empty():
        if result["suppressed"].any():
            st.info(
                f"The {metric.label.lower()} answers linked to a contact for these filters are hidden "
                f"({SUPPRESSED}): too few in every wait band to show."
            )
        else:
            # Not asked (trust answered as thumbs alone, say) is told apart from no answers after a contact.
            nothing = (
                f"No {metric.label.lower()} answers linked to a contact for these filters. Surveys in the v2 "
                "format ask ease as a went-well / could-improve choice, so ease by wait needs v1 answers."
            )
            st.info(data.why_empty(name, filters, nothing, offered=False))
        return
    exhibits.chart(
        f"{metric.label} by wait before answer" + (" and channel" if split_by else ""),
        charts.trend(result, metric, "wait_band", split_by),
        tables.readable(result, metric, by),
        f"{metric.label} by wait before answer"
        + (" and channel" if split_by else "")
        + ": "
        + tables.in_words(result, metric.format, by),
        numbers=result,
        metrics=[name],
    )
    cost = wait_cost(data.by_wait(name, filters, None)[0], metric.aggregate)
    if cost is not None:
        first, last = cost.shortest, cost.longest
        verdict = "beyond sampling noise" if cost.difference.significant else "within sampling noise"
        st.markdown(
            f"**{last['wait_band']}** against **{first['wait_band']}**: "
            f"{format_value(last['value'], metric.format)} against {format_value(first['value'], metric.format)}, "
            f"**{format_delta(cost.difference.delta, metric.format)}** ({verdict})."
        )
    if ignored:
        st.caption(f"Not filtered by {', '.join(ignored)}: these answers have no such column.")


def _importance(filters: Filters) -> None:
    """Importance against performance, with the fix-first quadrant."""
    st.header("Which drivers matter most, and how are we doing on them?")
    found: Importance = data.driver_importance(filters)
    # The answer leads; the method is there for whoever asks how.
    st.expander("How this is computed").markdown(
        "**How importance is computed.** For respondents who answered trust on the five-point scale and all six "
        "drivers, trust is regressed on every subset of the drivers; each driver is credited with its average "
        "gain in explained variance (R²) over all orders of entry (relative importance, the LMG or Shapley "
        "method). Shares add up to 100% of what the drivers explain together, so drivers that move together "
        "share the credit. The 95% interval comes from re-estimating without each twentieth of the respondents "
        "(jackknife). Performance is each driver's own score: the share answering 4 or 5. This is association, "
        "not proof of cause."
    )
    if found.hidden_reason:
        # A count under the privacy minimum is not shown, here as everywhere.
        counted = f"n = {found.n:,}" if found.n >= data.engine().min_n else f"under {data.engine().min_n}"
        st.info(f"No ranking: {found.hidden_reason} ({counted}; at least {MIN_COMPLETE} needed).")
        return
    table = found.drivers.with_columns(
        pl.col("driver").map_elements(lambda d: data.metric(d).label, return_dtype=pl.String).alias("label")
    )
    r_squared = found.r_squared or 0.0
    st.markdown(
        f"The six drivers together explain **{r_squared:.0%}** of the variation in trust (n = {found.n:,}). "
        + fix_first_sentence(table.filter(pl.col("driver").is_in(fix_first(table))))
    )
    exhibits.chart(
        "Importance to trust against performance",
        charts.quadrants(table),
        _importance_table(table),
        "Scatter of driver importance against performance: "
        + "; ".join(
            f"{row['label']} importance {format_value(row['importance'], 'percent')}, performance "
            f"{format_value(row['performance'], 'percent')}, {placement(row)}"
            for row in table.iter_rows(named=True)
        ),
        numbers=table,
        metrics=["trust", *table["driver"].to_list()],
    )
    if found.ignored_filters:
        st.caption(f"Not filtered by {', '.join(found.ignored_filters)}: survey answers have no such column.")


def _importance_table(table: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Rank": table["rank"],
            "Driver": table["label"],
            "Importance (share of R²)": [format_value(v, "percent") for v in table["importance"]],
            "95% interval": [
                f"{format_value(lo, 'percent')} to {format_value(hi, 'percent')}"
                for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            "Performance (share 4-5)": [format_value(v, "percent") for v in table["performance"]],
            "n (performance)": [format_value(n, "integer") for n in table["performance_n"]],
            "Quadrant": [
                placement(row) if row["quadrant"] else SUPPRESSED for row in table.iter_rows(named=True)
            ],
        }
    )


def _checklist(filters: Filters) -> None:
    """v2 surveys: what went well for those who trusted, what could improve for those who did not."""
    st.header("What customers say went well and could improve (v2 surveys)")
    table = data.v2_checklist(filters)
    missing = unshown(table)
    if missing == SUPPRESSED:
        st.info(f"The v2 survey answers for these filters are hidden ({SUPPRESSED}): too few to show.")
        return
    if missing is not None:
        st.info("No v2 survey answers for these filters.")
        return
    table = table.with_columns(
        pl.col("driver")
        .map_elements(lambda d: d.replace("_", " ").capitalize(), return_dtype=pl.String)
        .alias("label")
    )
    exhibits.chart(
        "What went well and what could improve (v2 surveys)",
        charts.checklist(table),
        _checklist_table(table),
        "Bars of the share selecting each driver: "
        + "; ".join(
            f"{row['label']} went well {_share(row, 'went_well')}, could improve {_share(row, 'could_improve')}"
            for row in table.iter_rows(named=True)
        ),
        numbers=checklist_numbers(table.drop("label")),
    )
    # Bars carry no interval: the caption says on how many each side rests (one denominator per side:
    # the respondents shown it), so 60% of a dozen is not read as 60% of thousands.
    counted = checklist_sizes(table)
    sizes = [
        f"{format_value(counted[side], 'integer')} who {who}"
        for side, who in (("went_well", "trusted"), ("could_improve", "did not"))
        if side in counted
    ]
    if sizes:
        st.caption(
            f"Shares among {' and '.join(sizes)}; each bar's 95% interval is in its tooltip and the CSV."
        )
    # A side with no share to show has no bars at all: say why, rather than leave it to the legend.
    for side, who in (
        ("went_well", "went well, among those who trusted"),
        ("could_improve", "could improve, among those who did not"),
    ):
        why = unshown(table, (side,))
        if why == SUPPRESSED:
            st.caption(f"What {who}: hidden for every driver ({SUPPRESSED}), too few answers to show.")
        elif why is not None:
            st.caption(f"What {who}: no data, no one answered it under these filters.")


def _share(row: dict[str, object], side: str) -> str:
    """A checklist share as read: a hidden one (no n) is †, one over no answers (n 0) is "no data"."""
    return format_statistic(cast(float | None, row[side]), row[f"{side}_n"] is None, "percent")


def _checklist_table(table: pl.DataFrame) -> pl.DataFrame:
    rows = list(table.iter_rows(named=True))
    return pl.DataFrame(
        {
            "Driver": table["label"],
            "Went well (among those who trusted)": [_share(r, "went_well") for r in rows],
            "n": [format_value(n, "integer") for n in table["went_well_n"]],
            "Could improve (among those who did not)": [_share(r, "could_improve") for r in rows],
            "n ": [format_value(n, "integer") for n in table["could_improve_n"]],
        }
    )


render()
