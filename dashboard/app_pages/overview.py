"""Overview: is trust up? The headline KPIs of the quarter and what changed most."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, data, exhibits, parts, state, tiles
from dashboard.briefing import Figure
from dashboard.filters import current, describe
from dashboard.pages import PAGES
from metrics.analyses.gaps import DEFAULT_FLOOR, LISTED, Gap, Gaps, compared_with, who
from metrics.analyses.kpis import (
    OVERVIEW_COUNTS,
    SHOWN,
    Tile,
    describe_tile,
    kept_apart,
    quarters_back,
    tile_value,
)
from metrics.analyses.overview import MOVED_BY, moved
from metrics.analyses.release import from_surveys
from metrics.compare import FAMILY_NOTE
from metrics.formatting import (
    NO_DATA,
    NOT_APPLICABLE,
    SUPPRESSED,
    format_delta,
    format_move,
    format_value,
    left_out,
    suppression_note,
)
from metrics.measures import THEME_METRICS, TRUST, TRUST_THUMBS
from metrics.query import Filters


def render() -> None:
    """Draw the page."""
    filters = current()
    quarter = filters.end
    if quarter is None:
        st.error("No data found. Run `cx check` to see what is wrong with the inputs.")
        return
    exhibits.title(f"Is trust up? Customer experience in {quarter}")
    data.ask_overview(filters, quarter)
    # The answer first, in a sentence a leader can repeat; the tiles below carry the detail.
    with parts.part("The answer in words"):
        st.markdown(f"**{data.answer(filters, quarter)}**")
    # Trust as the quarter asked it: on the five-point scale, or as thumbs up/down where only that.
    measures = data.headline_measures(filters, quarter)
    st.caption(
        f"{describe(filters)}. Tiles show {quarter} against {quarters_back(quarter, 1)}; services are pooled "
        "response-weighted (every response counts once). Lines under each value are the last eight quarters."
    )
    apart = kept_apart(data.engine(), measures)
    responses, rate, *results = data.tiles_or_problems(
        (*OVERVIEW_COUNTS, *measures, *apart), filters, quarter
    )
    other_scale = results.pop() if apart else None
    if isinstance(responses, Tile) and isinstance(rate, Tile):
        # Hidden (†) and none are different: none is said in words, not as a mark. A measure whose data
        # has none of the view's channels or services (not applicable) has none here either.
        count, share = tile_value(responses), tile_value(rate)
        st.markdown(
            ("**No responses**" if count in (NO_DATA, NOT_APPLICABLE) else f"**{count} responses**")
            + f" in {quarter}; "
            + (
                "response rate unknown: no record of customers offered the survey"
                if share in (NO_DATA, NOT_APPLICABLE)
                else f"response rate **{share}** of customers offered the survey"
            )
            + (" (all segments: collections have no segment)." if rate.ignored_filters else ".")
        )
    internal = exhibits.briefing().provenance.release
    for names, row in ((measures[:3], results[:3]), (measures[3:], results[3:])):
        for name, tile, column in zip(names, row, st.columns(3), strict=True):
            if isinstance(tile, Tile):
                surveyed = internal and from_surveys(data.engine(), tile.metric)
                tiles.show(tile, column, note="Internal only." if surveyed else "")
            else:
                tiles.unavailable(data.metric(name), tile, column)
    shown = [t for t in results if isinstance(t, Tile)]
    figures = [Figure(t.metric.label, tile_value(t), " ".join(describe_tile(t))) for t in shown]
    if isinstance(other_scale, Tile) and other_scale.state in (SHOWN, SUPPRESSED):
        said = _other_scale(measures[0], other_scale)
        st.caption(said)
        # The deck's key figures carry it too, as the page does.
        figures.append(Figure(other_scale.metric.label, tile_value(other_scale), said))
    exhibits.figures(figures)

    st.header("What changed this quarter")
    listed = moved(measures)
    themes = tuple(
        name
        for name, tile in zip(measures, results, strict=True)
        if name in listed and isinstance(tile, Tile)
    )
    found = data.largest_moves(themes, MOVED_BY, filters, quarter) if themes else None
    moves = found.listed if found else ()
    between = f"between {quarters_back(quarter, 1)} and {quarter}"
    if not (found and found.tested):
        st.info(
            f"No service or segment has answers shown in both quarters to compare {between}: nothing can be "
            "said of what changed in this view."
        )
    elif not moves:
        compared = f"{found.tested:,} change{'s' if found.tested > 1 else ''} compared"
        st.info(f"No service or segment moved beyond sampling noise {between} ({compared}).")
    else:
        st.caption(
            "The largest moves beyond sampling noise (95% level) across services and customer segments. "
            + FAMILY_NOTE
        )
        exhibits.table(
            "What changed this quarter",
            pl.DataFrame(
                {
                    "Measure": [m.metric.label for m in moves],
                    "Group": [f"{m.dimension.replace('_', ' ').capitalize()}: {m.group}" for m in moves],
                    quarters_back(quarter, 1): [format_value(m.previous, m.metric.format) for m in moves],
                    quarter: [format_value(m.current, m.metric.format) for m in moves],
                    # In words ("down 29.2 pts"): one column, not a signed figure and its direction.
                    "Change": [format_move(m.difference.delta or 0.0, m.metric.format) for m in moves],
                    "Compared": [m.basis.note or "all respondents in both quarters" for m in moves],
                }
            ),
            numbers=pl.DataFrame(
                {
                    "metric": [m.metric.name for m in moves],
                    "dimension": [m.dimension for m in moves],
                    "group": [m.group for m in moves],
                    "previous_quarter": [quarters_back(quarter, 1)] * len(moves),
                    "previous": [m.previous for m in moves],
                    "quarter": [quarter] * len(moves),
                    "current": [m.current for m in moves],
                    "change": [m.difference.delta for m in moves],
                    "z": [m.difference.z for m in moves],
                    "p_holm": [m.difference.p for m in moves],
                    "test": [m.difference.test for m in moves],
                    "basis": [m.basis.note for m in moves],
                }
            ),
            metrics=THEME_METRICS,
            wrap=True,  # a few rows: wrapped to the page, and to a phone's width
        )
    failing_whom(filters)
    eight_quarters(shown)
    st.caption(suppression_note(data.engine().min_n))


# How each trust measure's answers were asked, in words.
_SCALES = {TRUST: "on the five-point scale", TRUST_THUMBS: "as thumbs up or down"}


def _other_scale(lead: str, tile: Tile) -> str:
    """Say what trust on the scale the tiles do not lead with holds in the quarter: kept apart, never
    pooled, and not left unmentioned."""
    n = "" if tile.state == SUPPRESSED else f" (n = {tile.current['n']:,})"
    return (
        f"The {data.metric(lead).label} tile counts answers {_SCALES[lead]}. Some surveys in {tile.quarter} "
        f"asked trust {_SCALES[tile.metric.name]} instead, kept apart and never pooled: {tile.metric.label} "
        f"{tile_value(tile)}{n}."
    )


def eight_quarters(shown: list[Tile]) -> None:
    """The tiles' share measures over their last eight quarters on one full axis, for the page and deck."""
    # A measure that does not apply to the view has no line, as its tile has none (the self-service
    # rate within one channel would be drawn at 100%).
    shown = [t for t in shown if t.state != NOT_APPLICABLE]
    # Without one quarter shown there is no line to draw: the tiles already say why.
    shares = [t for t in shown if t.metric.format == "percent" and any(v is not None for _, v in t.history)]
    if not shares:
        return
    st.header("The last eight quarters")
    numbers = tiles.history_numbers(shown)
    # The chart draws values (a hidden or missing one is a gap in its line); the export tells them apart.
    long = numbers.filter(pl.col("measure").is_in([t.metric.name for t in shares])).drop(
        "suppressed", "not_asked"
    )
    labels = {t.metric.name: t.metric.label for t in shares}
    exhibits.chart(
        "The last eight quarters",
        charts.shares_over_time(long, labels),
        tiles.history_table(shown),
        "Line chart of the last eight quarters: "
        + "; ".join(
            f"{t.metric.label} from {tile_history_end(t, 0)} to {tile_history_end(t, -1)}" for t in shares
        )
        + ".",
        numbers=numbers,
        metrics=[t.metric.name for t in shown],
        table_title="Numbers behind the eight-quarter lines",
    )


def tile_history_end(tile: Tile, end: int) -> str:
    """Return a tile's first (0) or last (-1) quarter on its line, with its value."""
    known = [(q, v) for q, v in tile.history if v is not None]
    if not known:
        return "hidden"
    quarter, value = known[end]
    return f"{format_value(value, tile.metric.format)} in {quarter}"


_EQUITY = next(p for p in PAGES if p.url_path == "equity")


def failing_whom(filters: Filters) -> None:
    """The largest equity gaps of the view, worse served first, each with a link to its Equity view."""
    st.header("Where are we failing whom?")
    with st.columns([1, 3])[0]:
        floor = state.number(
            "Smallest gap worth listing (points)",
            "floor",
            default=DEFAULT_FLOOR * 100,
            minimum=1.0,
            maximum=50.0,
            step=1.0,
            format="%.0f",
            help="A gap smaller than this is not listed however certain: with many answers, a one-point "
            "gap is beyond noise and still not news.",
        )
    with st.spinner("Comparing every equity group with its peers…"):
        found = data.equity_gaps(filters, floor / 100)
    if not found.tested:
        st.info(
            "No equity group has enough answers in this view to be compared with its peers."
            + _left_out(found)
        )
        return
    st.caption(
        "Each equity group against the people it is one of: everyone in the view, or all who share one "
        "other trait with it (another equity group, a channel, a service, a segment or a quarter), for "
        f"{describe(filters)}. Listed when the gap is at least {floor:g} points and stays beyond sampling "
        f"noise after Holm's adjustment over all {found.tested:,} comparisons; ranked by how wide the gap "
        "surely is (the end of its 95% interval nearest zero). People who did not report a trait are "
        "not ranked." + _left_out(found)
    )
    labels = data.channel_labels()
    for heading, listed, none in (
        ("Served worse than their peers", found.below, "No group is served worse than its peers"),
        ("Served better than their peers", found.above[:4], "No group is served better than its peers"),
    ):
        st.subheader(heading)
        if not listed:
            st.markdown(f"{none} by {floor:g} points or more beyond sampling noise in this view.")
            continue
        for rank, found_gap in enumerate(listed[:LISTED], 1):
            st.markdown(_gap_line(rank, found_gap, labels))
            st.page_link(
                _EQUITY.script,
                label="See it on the Equity page",
                icon=":material/arrow_forward:",
                query_params=_equity_view(found_gap, filters),
            )
    sides = [(g, "below") for g in found.below] + [(g, "above") for g in found.above]
    if sides:
        _gap_chart(sides, labels, found.metrics)


def _left_out(found: Gaps) -> str:
    """Say which of the measures the gap search compares it had to leave out, and why; "" if none."""
    engine = data.engine()
    missing = [
        engine.metric(n) for n in found.asked if n in engine.catalog.metrics and n not in found.metrics
    ]
    if not missing:
        return ""
    return " " + left_out([m.label for m in missing], {i for m in missing for i in engine.unusable(m)})


def _gap_chart(sides: list[tuple[Gap, str]], labels: dict[str, str], names: tuple[str, ...]) -> None:
    """Every gap listed (and those past the first few) as a chart with its table, for the page and deck."""
    shown = [g for g, _ in sides]
    frame = pl.DataFrame(
        {
            "label": [f"{data.metric(g.metric).label}: {who(g, labels)}" for g in shown],
            "gap": [g.difference.delta for g in shown],
            "low": [(g.interval or (None, None))[0] for g in shown],
            "high": [(g.interval or (None, None))[1] for g in shown],
            "side": [side for _, side in sides],
        },
        schema={
            "label": pl.String,
            "gap": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
            "side": pl.String,
        },
    )
    listed, numbers = (
        ("the gap listed", "its") if len(shown) == 1 else (f"all {len(shown)} gaps listed", "their")
    )
    # Drawn after both lists: said whose gaps it draws, so it is not read as the better-served's alone.
    st.caption("Every gap found, worse- and better-served, with its 95% interval, in points.")
    exhibits.chart(
        "Where are we failing whom",
        charts.gaps(frame),
        _gap_table(shown, labels),
        f"Dot chart of {listed}, with 95% intervals: "
        + "; ".join(
            f"{label} {format_delta(gap, 'percent')}"
            for label, gap in zip(frame["label"], frame["gap"], strict=True)
        )
        + ".",
        numbers=frame.with_columns(
            pl.Series("metric", [g.metric for g in shown]),
            pl.Series("value", [g.row["value"] for g in shown], dtype=pl.Float64),
            pl.Series("n", [g.row["n"] for g in shown], dtype=pl.Int64),
            pl.Series("reference", [g.reference["value"] for g in shown], dtype=pl.Float64),
            pl.Series("reference_n", [g.reference["n"] for g in shown], dtype=pl.Int64),
            pl.Series("p_holm", [g.difference.p for g in shown], dtype=pl.Float64),
            pl.Series("test", [g.difference.test for g in shown]),
        ),
        metrics=names,
        table_title=f"{listed.capitalize()}, with {numbers} numbers",
    )


def _gap_line(rank: int, found: Gap, labels: dict[str, str]) -> str:
    metric = data.metric(found.metric)
    low, high = found.interval or (None, None)
    return (
        f"**{rank}\\. {metric.label}, {state.inert(who(found, labels))}**: "
        f"{format_value(found.row['value'], metric.format)} (n = {format_value(found.row['n'], 'integer')}) "
        f"against {format_value(found.reference['value'], metric.format)} for "
        f"{state.inert(compared_with(found, labels))}: **{format_delta(found.difference.delta, metric.format)}** "
        f"(95% interval {format_delta(low, metric.format)} to {format_delta(high, metric.format)})."
    )


def _gap_table(shown: list[Gap], labels: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Measure": [data.metric(g.metric).label for g in shown],
            "Who": [who(g, labels) for g in shown],
            "Value": [format_value(g.row["value"], "percent") for g in shown],
            "n": [format_value(g.row["n"], "integer") for g in shown],
            "Compared with": [compared_with(g, labels) for g in shown],
            "Their value": [format_value(g.reference["value"], "percent") for g in shown],
            "Gap": [format_delta(g.difference.delta, "percent") for g in shown],
            "Gap 95% interval": [
                " to ".join(format_delta(v, "percent") for v in g.interval) if g.interval else "n/a"
                for g in shown
            ],
        }
    )


def _equity_view(found: Gap, filters: Filters) -> dict[str, str | list[str]]:
    """Return the Equity page's choices for the view a gap was found in, split by its group."""
    start, end = filters.start, filters.end
    params: dict[str, str | list[str]] = {"metric": found.metric, "by": found.dimension}
    if found.context and found.context[0] == "fiscal_quarter":
        start = end = found.context[1]
    elif found.context:
        params |= {"within": found.context[0], "value": found.context[1]}
    params |= {"from": str(start), "to": str(end)}
    return params | {d: list(values) for d, values in filters.where}


render()
