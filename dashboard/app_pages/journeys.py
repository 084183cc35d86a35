"""Journeys: where in the journey do we lose people? A service's stages in order with the four theme
scores and the responses behind each, the moment that matters, and the same across segments."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data, exhibits, state, tables
from dashboard.filters import current, describe
from metrics.analyses.journeys import STAGES, Moment, offered, opening, shown
from metrics.formatting import NOT_ASKED, SUPPRESSED, format_statistic, format_value, listed, suppression_note
from metrics.measures import THEME_METRICS


def render() -> None:
    """Draw the page."""
    exhibits.title("Where in the journey do we lose people? Customer journeys")
    filters = current()
    # The sidebar's service filter wins: the page offers only the services it names.
    services = offered(filters, data.options()["services"])
    if not services:
        st.info("No survey responses yet.")
        return
    if len(services) == 1:
        service = services[0]
    else:
        service = state.select(
            "Service",
            services,
            "journey_service",
            default=opening(services, data.journey_default_service(filters)),
            help="The service with the most survey responses comes first; the sidebar's service filter "
            "narrows the list.",
        )
    found = data.journey(service, filters)
    labels = {n: data.metric(n).label for n in found.asked}
    st.caption(f"{service}; {describe(filters, besides='service')}.")
    if found.empty:
        hidden = bool(found.scores["suppressed"].any())
        st.info(
            (
                f"The survey answers for {service} under these filters are all hidden ({SUPPRESSED}): too few "
                "at every stage to show"
                if hidden
                else f"No survey answers for {service} under these filters"
            )
            + ", so no stage can be named. Widen the period or the filters."
        )
        return
    if found.compared:
        st.markdown(_moment_text(found.moment, "at both"))
    else:
        st.markdown(
            "**No stage can be compared with the one before it:** no two neighbouring stages both have "
            "answers shown under these filters. Widen the period or the filters."
        )
    if found.lowest is not None:
        low = found.lowest
        said = f"at {format_value(low.average, 'percent')} on {_themes(low.themes, 'there')}"
        unseen = (
            f"; {listed(list(low.hidden))} {'is' if len(low.hidden) == 1 else 'are'} hidden ({SUPPRESSED}), "
            "too few answers to compare"
            if low.hidden
            else ""
        )
        if low.beyond_noise:
            others = "every other stage shown" if low.hidden else "every other stage"
            st.markdown(
                f"**Lowest stage: {low.stage}**, {said}: below {others} beyond sampling noise{unseen}."
            )
        else:
            st.markdown(
                f"**Lowest stage: {low.stage}**, {said}, but within sampling noise of {listed(list(low.near))}: "
                f"it is not surely the lowest{unseen}."
            )
    st.caption(
        "How the moment that matters is chosen: the stage where the average of the four themes falls "
        "most from the stage before it, comparing only themes shown at both stages, named only when that "
        "fall is beyond sampling noise (tested against every other pair of stages with Holm's "
        "adjustment). The lowest stage can differ: a journey can start low and never fall. It is said to be "
        "the lowest beyond sampling noise only when it is below every other stage so, tested as one of every "
        "pair of stages (Holm's adjustment)."
    )

    scores = found.scores.with_columns(pl.col("metric").replace_strict(labels).alias("theme"))
    what = "The four themes" if found.themes == found.asked else listed([labels[m] for m in found.themes])
    exhibits.chart(
        f"{what} across the journey of {service}",
        charts.journey(scores, found.moment if found.moment and found.moment.beyond_noise else None),
        _stage_table(scores, found.responses, list(labels.values())),
        f"Lines of the four themes across the journey stages of {service}: "
        + tables.in_words(scores, "percent", ["journey_stage", "theme"]),
        numbers=scores,
        metrics=found.asked,
    )
    volume = " · ".join(f"{stage}: {format_value(n, 'integer')}" for stage, n in found.responses.items())
    st.markdown(f"**Responses per stage** · {volume}")
    if found.ignored_filters:
        st.caption(f"Not filtered by {', '.join(found.ignored_filters)}: survey answers have no such column.")

    st.header("Is the moment that matters the same for every segment?")
    theme = state.select(
        "Theme to compare",
        list(found.asked),
        "journey_theme",
        default=found.asked[0],
        format_func=lambda n: labels[n],
    )
    by_segment, moments = data.journey_by_segment(service, theme, filters)
    metric = data.metric(theme)
    for segment in dict.fromkeys(by_segment["segment"].cast(pl.String).to_list()):
        said = (
            _moment_text(moments[segment], short=True)
            if segment in moments
            else "too few answers shown at neighbouring stages to compare them."
        )
        st.markdown(f"- **{segment}**: {said}")
    if shown(by_segment).is_empty():
        st.info(
            f"Every segment's {metric.label.lower()} answers for {service} under these filters are hidden "
            f"({SUPPRESSED}): too few to show."
            if by_segment["suppressed"].any()
            else f"No segment has {metric.label.lower()} answers for {service} under these filters."
        )
    else:
        exhibits.chart(
            f"{metric.label} across the journey of {service} by segment",
            charts.trend(by_segment, metric, "journey_stage", "segment"),
            tables.readable(by_segment, metric, ["segment", "journey_stage"]),
            f"{metric.label} across the journey stages by segment: "
            + tables.in_words(by_segment, metric.format, ["segment", "journey_stage"]),
            numbers=by_segment,
            metrics=[theme],
        )
    st.caption(suppression_note(data.engine().threshold(metric)))


def _themes(themes: tuple[str, ...], where: str) -> str:
    """Say which themes an average is of: the four, or those shown `where` ("there", "at both")."""
    if len(themes) == len(THEME_METRICS):
        return "the four themes on average"
    names = [data.metric(t).label.lower() for t in themes]
    if len(names) == 1:
        return f"{names[0]}, the only theme shown {where}"
    return f"{listed(names)} on average, the themes shown {where}"


def _moment_text(moment: Moment | None, where: str = "", short: bool = False) -> str:
    if moment is None:
        return (
            "No stage falls below the one before it."
            if short
            else ("**No moment of loss:** no stage scores lower than the stage before it.")
        )
    points = f"{moment.drop * 100:.1f} pts"
    if short and moment.beyond_noise:
        return f"{moment.stage} (down {points} from {moment.previous}, beyond sampling noise)"
    if short:
        return (
            f"no stage falls beyond sampling noise (the largest fall: {moment.stage}, down {points} from "
            f"{moment.previous})."
        )
    if not moment.beyond_noise:
        return (
            f"**No stage falls beyond sampling noise.** The largest fall, from {moment.previous} to "
            f"{moment.stage}, is {points} on {_themes(moment.themes, where)}: within sampling noise, so no "
            "moment is named."
        )
    return (
        f"**The moment that matters: {moment.stage}.** Scores fall most from {moment.previous} to "
        f"{moment.stage}: down {points} on {_themes(moment.themes, where)} (beyond sampling noise)."
    )


def _stage_table(scores: pl.DataFrame, responses: dict[str, int | None], themes: list[str]) -> pl.DataFrame:
    table: dict[str, list[str]] = {"Stage": [s for s in STAGES if s in responses]}
    for theme in themes:
        values = {
            row["journey_stage"]: format_statistic(row["value"], row["suppressed"], "percent")
            for row in scores.filter(pl.col("theme") == theme).iter_rows(named=True)
        }
        # A stage is listed for its survey responses: a theme it has no answers to, its surveys did not
        # ask (as Equity's table says); hidden (†) and over no answers ("no data") are told apart.
        table[theme] = [values.get(stage, NOT_ASKED) for stage in table["Stage"]]
    table["Responses"] = [format_value(responses[s], "integer") for s in table["Stage"]]
    return pl.DataFrame(table)


render()
