"""What customers say: the comment themes as measures (their change, trend and gaps between groups)
and the redacted comments themselves, listed only where they cannot be tied to a small group."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from dashboard import charts, data, exhibits, state, tables, tiles
from dashboard.briefing import Briefing, Exhibit, csv_bytes
from dashboard.filters import current, describe
from metrics.analyses.kpis import Tile, quarters_back
from metrics.analyses.voice import DOWNLOADED, TRUST_ANSWERS, theme_file, themes, verbatims
from metrics.catalog import Metric
from metrics.comments import GROUPS
from metrics.compare import FAMILY_NOTE
from metrics.dimensions import DIMENSIONS, EQUITY_DIMENSIONS
from metrics.formatting import SUPPRESSED, format_statistic, format_value, suppression_note
from metrics.query import Engine, Filters, Query

EVERYONE = "everyone"
ANY = "any"
# The groups a theme is compared across: as on the Equity page.
BREAKDOWNS = (*EQUITY_DIMENSIONS, "segment", "journey_stage", "channel", "service")


def render() -> None:
    """Draw the page."""
    filters = current()
    quarter = filters.end
    exhibits.title("What are customers telling us? Comments by theme")
    engine = data.engine()
    found = themes(engine)
    if quarter is None:
        st.info("No data for these filters.")
        return
    st.caption(
        f"{describe(filters)}. A theme's share is the share of comments about it, among the responses with "
        "a comment; a comment may be about several themes. Names, e-mail addresses, phone numbers, ID and "
        "case numbers, street addresses and links are replaced (e.g. [name]) before a comment is stored."
    )
    if not found:
        st.info("No comment themes are defined yet: add a file to sql/themes/ (see Metrics and data).")
    else:
        shares(found, filters, quarter)
        over_time(found, filters)
        who_says(found, filters)
    in_their_words(found, filters)
    suggestions()
    st.caption(suppression_note(engine.min_n))


def shares(found: list[Metric], filters: Filters, quarter: str) -> None:
    """The themes in the quarter, each against the previous one: a tile per theme."""
    st.header(f"Themes in {quarter}")
    st.caption(f"Each against {quarters_back(quarter, 1)}; colour marks a change beyond sampling noise.")
    results = data.tiles_or_problems(tuple(m.name for m in found), filters, quarter)
    for start in range(0, len(found), 3):
        for metric, tile, column in zip(
            found[start : start + 3], results[start : start + 3], st.columns(3), strict=False
        ):
            if isinstance(tile, Tile):
                tiles.show(tile, column)
            else:
                tiles.unavailable(metric, tile, column)


def over_time(found: list[Metric], filters: Filters) -> None:
    """Every theme's share by quarter over the period, on one axis."""
    st.header("Themes over time")
    lines = data.series_many(tuple(m.name for m in found), filters, "fiscal_quarter")
    series = list(zip(found, lines, strict=True))
    frame = pl.concat(
        [
            result.select(
                pl.col("fiscal_quarter").alias("quarter"),
                pl.lit(m.name).alias("measure"),
                pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("value")).alias("value"),
                pl.col("n"),
                pl.col("suppressed"),
            )
            for m, result in series
            if result.height
        ]
        or [pl.DataFrame(schema={"quarter": pl.String, "measure": pl.String, "value": pl.Float64})]
    )
    if frame["value"].is_null().all():  # no line to draw: say why rather than draw empty axes
        st.info(
            f"Every theme's comments in this period are hidden ({SUPPRESSED}): too few to show."
            if not frame.is_empty() and frame["suppressed"].any()
            else "No comments in this period under these filters."
        )
        return
    labels = {m.name: m.label for m in found}
    quarters = list(dict.fromkeys(sorted(frame["quarter"].to_list())))
    table: dict[str, list[str]] = {"Quarter": quarters}
    for m, result in series:
        rows = {r["fiscal_quarter"]: r for r in result.iter_rows(named=True)}
        table[m.label] = [
            format_statistic(rows[q]["value"], rows[q]["suppressed"], "percent") if q in rows else "no data"
            for q in quarters
        ]
    peaks = [
        f"{m.label} peaks at {format_value(r['value'], 'percent')} in {r['fiscal_quarter']}"
        for m, result in series
        if (r := _peak(result)) is not None
    ]
    exhibits.chart(
        "Comment themes by fiscal quarter",
        charts.shares_over_time(
            frame.select("quarter", "measure", "value"), labels, charts.share_axis_top(frame["value"])
        ),
        pl.DataFrame(table),
        "Line chart of the share of comments about each theme by fiscal quarter. "
        + ("; ".join(peaks) + ". " if peaks else "")
        + "The table below lists every point.",
        numbers=frame.sort("quarter", "measure"),
        metrics=[m.name for m in found],
    )
    if frame["value"].is_null().any():
        st.caption(
            "Quarters with too few comments to show are left out of the lines and marked † in the table."
        )


def _peak(result: pl.DataFrame) -> dict[str, Any] | None:
    shown = result.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
    return shown.sort("value", descending=True).row(0, named=True) if shown.height else None


def who_says(found: list[Metric], filters: Filters) -> None:
    """One theme by the groups of a dimension against everyone, with its gaps beyond noise."""
    st.header("Who raises it")
    left, right = st.columns(2)
    with left:
        name = state.select(
            "Theme", [m.name for m in found], "theme", default=found[0].name, format_func=_label_of(found)
        )
    with right:
        dimension = state.select(
            "Compare", BREAKDOWNS, "by", default="age_band", format_func=lambda d: DIMENSIONS[d].label
        )
    metric = data.metric(name)
    result = data.breakdown(name, dimension, filters, ())
    groups = data.labelled(result.groups)
    overall = result.overall
    st.markdown(
        f"**{metric.label}**: share of comments by {DIMENSIONS[dimension].label.lower()}, against "
        f"**{format_statistic(overall['value'], overall['suppressed'], 'percent')}** of all comments "
        f"(n = {format_statistic(overall['n'], overall['suppressed'], 'integer')}) in {describe(filters)}."
    )
    threshold = data.engine().threshold(metric)
    why = tables.unshown(groups, f"comments by {DIMENSIONS[dimension].label.lower()}", threshold, "comments")
    if why:
        st.info(why)  # nothing to draw, and no "no group differs" of groups not compared
        return
    exhibits.chart(
        f"{metric.label} by {DIMENSIONS[dimension].label.lower()}",
        charts.groups(
            groups,
            dimension,
            metric,
            result.overall["value"],
            charts.share_axis_top([*groups["ci_high"], *groups["value"], result.overall["value"]]),
        ),
        tables.readable(groups, metric, [dimension]),
        f"Dot chart of the share of comments about {metric.label.lower()} by "
        f"{DIMENSIONS[dimension].label.lower()} with 95% intervals: "
        + tables.in_words(groups, metric.format, [dimension])
        + ".",
        numbers=result.groups,
        metrics=[name],
    )
    st.markdown(tables.gaps_in_words(groups, dimension, metric))
    st.caption(FAMILY_NOTE)
    hidden = groups.filter(pl.col("suppressed"))[dimension].to_list()
    if hidden:
        st.markdown(
            f"**Hidden:** {state.inert(', '.join(map(str, hidden)))}: fewer than {threshold} comments †."
        )


def in_their_words(found: list[Metric], filters: Filters) -> None:
    """The newest comments of the view, narrowed by theme, trust answer and group."""
    st.header("In their own words")
    engine = data.engine()
    columns = st.columns(4)
    with columns[0]:
        theme = state.select(
            "About",
            [ANY, *(m.name for m in found)],
            "say",
            default=ANY,
            format_func=lambda n: "Any theme" if n == ANY else _label_of(found)(n),
        )
    with columns[1]:
        trust = state.select(
            "Trust answer",
            [ANY, *TRUST_ANSWERS],
            "trust",
            default=ANY,
            format_func=lambda t: "Any answer" if t == ANY else t.capitalize(),
            help="How the person answered the trust question: positive is 4 or 5 of 5, or thumbs up.",
        )
    with columns[2]:
        dimension = state.select(
            "From",
            [EVERYONE, *GROUPS],
            "from_group",
            default=EVERYONE,
            format_func=lambda d: "Everyone" if d == EVERYONE else DIMENSIONS[d].label,
        )
    group = None
    if dimension != EVERYONE:
        values = data.run(Query.of("responses", by=[dimension]))[dimension].to_list()
        with columns[3]:
            value = state.select(
                DIMENSIONS[dimension].label, values, "group", default=values[0] if values else None
            )
        group = (dimension, str(value))
    chosen = (None if theme == ANY else theme, None if trust == ANY else trust)
    listed = data.verbatims(filters, group, *chosen)
    st.caption(
        f"A comment is listed only where at least {engine.min_n} people of the same service, channel, "
        "segment, quarter and trust answer (and group, when one is chosen) commented, so no comment can be "
        "tied to a smaller group; narrowed to an equity group, a list shows part of that group's comments, "
        "as each comment is listed under one kind of equity group only."
    )
    if not listed.matching:
        st.info(_why_none(found, filters, group, chosen[0]))
        return
    shown = "" if listed.matching <= len(listed.rows) else f"; the newest {len(listed.rows)} are shown"
    st.markdown(
        f"**{listed.matching:,} comment{'s' if listed.matching != 1 else ''}** can be listed for this view"
        f"{shown}, newest first."
    )
    # A plain table wraps long comments to the page's (and a phone's) width; its cells are text, never
    # Markdown, so a comment shows as typed.
    st.table(
        listed.rows.select(
            pl.col("comment").alias("Comment"),
            pl.col("fiscal_quarter").alias("Quarter"),
            pl.col("trust_answer").alias("Trust answer"),
            pl.col("themes").alias("Themes"),
        ).to_pandas()
    )
    _download(filters, group, chosen, listed.matching)


def _why_none(found: list[Metric], filters: Filters, group: tuple[str, str] | None, theme: str | None) -> str:
    """Say why a view lists no comment: it has none, or each comes from a group under the minimum."""
    if not found:
        return "No comment can be listed for this view."
    where = {d: v for d, v in filters.where} | ({group[0]: (group[1],)} if group else {})
    asked, _ = data.engine().applicable(filters.query(theme or found[0].name, where=where))
    commented = data.run(asked).row(0, named=True)
    if not commented["n"] and not commented["suppressed"]:
        return "No comments in this view."
    return (
        f"None of this view's comments can be listed: each comes from a group of fewer than "
        f"{data.engine().min_n} people who commented (see above), or is listed under another kind of group."
    )


def _download(
    filters: Filters, group: tuple[str, str] | None, chosen: tuple[str | None, str | None], matching: int
) -> None:
    """Offer the view's comments (redacted, under the same rules) as a CSV of their own: never part
    of the page's exhibits, decks or briefings."""
    st.download_button(
        f"Download these comments (CSV, newest {min(matching, DOWNLOADED):,})",
        # Read and written on click, not on every run; with this run's engine (as the person looking
        # may use it) and provenance, as the session is not at hand then.
        data=functools.partial(_comments_csv, data.engine(), filters, group, chosen, exhibits.briefing()),
        file_name="voice-comments.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        help="The comments listed for this view, redacted, with where they came from",
    )


def suggestions() -> None:
    """The topics found in every comment of the data, for an analyst to make themes of: never part of
    the page's exports, as their examples are comments."""
    st.header("Themes the data suggests")
    found = data.suggested()
    if found is None:
        st.info(
            "Suggested themes are found in every service's comments, so they are shown only to people who "
            "may see every service."
        )
        return
    if not found:
        st.info("Too few comments, or too few words they share, to suggest a theme.")
        return
    st.caption(
        "Topics found in all the comments of the data, whatever the filters (TF-IDF and non-negative "
        "matrix factorisation), found again at each build of the data. To track one, copy its theme "
        "file into sql/themes/, give it a name and a description, and check its condition against the "
        f"examples; examples are shown under the same rule as the comments above (at least {data.engine().min_n})."
    )
    st.table(
        pl.DataFrame(
            {
                "Topic": [str(t.number) for t in found],
                "Top terms": [", ".join(t.terms) for t in found],
                "Main topic of": [format_value(t.share, "percent") for t in found],
                "Examples": [" / ".join(t.examples) or "none that may be shown" for t in found],
            }
        )
        .to_pandas()
        .set_index("Topic")
    )
    for topic in found:
        with st.expander(f"Theme file for topic {topic.number}: {', '.join(topic.terms[:3])}"):
            st.code(theme_file(topic), language="sql")


def _comments_csv(
    engine: Engine,
    filters: Filters,
    group: tuple[str, str] | None,
    chosen: tuple[str | None, str | None],
    found: Briefing,
) -> bytes:
    rows = verbatims(engine, filters, group, *chosen, limit=DOWNLOADED).rows
    return csv_bytes(Exhibit("Comments", rows, rows), exhibits.stamped(found))


def _label_of(found: list[Metric]) -> Callable[[str], str]:
    labels = {m.name: m.label for m in found}
    return lambda n: labels.get(n, n)


render()
