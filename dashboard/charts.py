"""Altair charts of already-aggregated numbers, in a colour-blind-safe palette, with tooltips."""

from __future__ import annotations

import functools
import hashlib
import math
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal, ParamSpec, TypeVar

import altair as alt
import polars as pl

from dashboard.kept import Kept
from metrics.analyses.drivers import EQUAL_SHARE, FIX_FIRST, QUADRANTS
from metrics.analyses.journeys import STAGES, Moment
from metrics.catalog import Metric
from metrics.dimensions import DIMENSIONS
from metrics.formatting import NOT_ASKED, POINTS, SUPPRESSED, format_value

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
# A split's lines: a colour and a shape each. Ten colours (the palette, then grey and brown) against
# nine shapes: both cycle, and as ten and nine share no factor, no two of the first ninety groups get
# the same pair (nine channels on eight colours and eight shapes drew the ninth as the first).
SERIES_COLOURS = [*PALETTE, "#8C8C8C", "#8B4513"]
SERIES_SHAPES = [
    "circle",
    "square",
    "triangle-up",
    "cross",
    "diamond",
    "triangle-right",
    "triangle-down",
    "triangle-left",
    "wedge",
]
# Up to how many lines' interval bands are drawn at their usual opacity (band_opacity).
CLEAR_BANDS = 4
_FORMATS = {"percent": ".1%", "duration": ",.1f", "integer": ",.0f", "number": ",.2f", POINTS: ",.1f"}
# Waits are computed in seconds and read in minutes, as the tables print them (4m 05s).
_STATISTICS = ("value", "ci_low", "ci_high", "gap")
# Charts kept built: a page run asks for the same charts of the same results again and again, and
# building one took longer than the rest of a warm run.
_KEPT = 256

_P = ParamSpec("_P")
_R = TypeVar("_R")
_built: Kept[bytes, bytes] = Kept(_KEPT)


def _once_per_result(build: Callable[_P, _R]) -> Callable[_P, _R]:
    """Return `build` remembering its last `_KEPT` charts by the pickled bytes of their arguments:
    equal bytes are equal results and choices, so an equal chart. Not Streamlit's cache, whose key
    reads only the first and last ten rows of a polars frame. A chart is kept pickled and each call
    gets its own copy: nothing is shared between runs, and the garbage collector Streamlit runs after
    every run walks one object per kept chart rather than the few hundred of a built one."""

    @functools.wraps(build)
    def remembered(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            asked = pickle.dumps((build.__name__, args, sorted(kwargs.items())), pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # an argument pickle cannot write
            return build(*args, **kwargs)
        key = hashlib.blake2b(asked).digest()
        kept = _built.get(key)
        if kept is None:
            kept = pickle.dumps(build(*args, **kwargs), pickle.HIGHEST_PROTOCOL)
            _built.put(key, kept)
        # A copy from the kept bytes even the first time: every copy of a chart then pickles alike,
        # and exhibits.py finds the chart's specification by those bytes.
        return pickle.loads(kept)  # type: ignore[no-any-return]

    return remembered


def axis_title(metric: Metric) -> str:
    """Return a chart axis title: the metric's label, with the unit a duration is drawn in."""
    return metric.label + (" (minutes)" if metric.format == "duration" else "")


def _drawn(frame: pl.DataFrame, metric: Metric) -> pl.DataFrame:
    """Return the statistics as a chart draws them: a duration's seconds as minutes."""
    return _in_minutes(frame, metric.format, _STATISTICS)


def _in_minutes(frame: pl.DataFrame, fmt: str, columns: Sequence[str]) -> pl.DataFrame:
    """Return `columns` of a frame of `fmt` values as a chart draws them: a duration's in minutes."""
    if fmt != "duration":
        return frame
    return frame.with_columns(pl.col(c) / 60 for c in columns if c in frame.columns)


def _scaled(value: float | None, metric: Metric) -> float | None:
    return value / 60 if value is not None and metric.format == "duration" else value


@_once_per_result
def trend(
    frame: pl.DataFrame,
    metric: Metric,
    grain: str,
    split: str | None,
    marks: Sequence[tuple[str, str]] = (),
    events: Sequence[tuple[str, str]] = (),
    target: float | None = None,
) -> alt.LayerChart | alt.FacetChart:
    """Line of the metric by period with its 95% interval band, one colour per split group, a dashed
    rule at each period in `marks` (period, what changed), a solid labelled rule at each of `events`
    (period, what happened) and a horizontal rule at the `target`."""
    fmt = _FORMATS[metric.format]
    shown = _drawn(frame.filter(~pl.col("suppressed")), metric).to_pandas()
    target_label = f"Target {format_value(target, metric.format)}" if target is not None else ""
    target = _scaled(target, metric)
    order = DIMENSIONS[grain].order
    x = alt.X(
        f"{grain}:O",
        title=DIMENSIONS[grain].label,
        axis=alt.Axis(labelAngle=-45),
        sort=list(order) if order else "ascending",
    )
    tooltip = [
        alt.Tooltip(f"{grain}:O", title=DIMENSIONS[grain].label),
        *([alt.Tooltip(f"{split}:N", title=DIMENSIONS[split].label)] if split else []),
        alt.Tooltip("value:Q", title=metric.label, format=fmt),
        alt.Tooltip("ci_low:Q", title="95% interval from", format=fmt),
        alt.Tooltip("ci_high:Q", title="95% interval to", format=fmt),
        alt.Tooltip("n:Q", title="n", format=","),
    ]
    base = alt.Chart(shown).encode(x=x)
    y_axis = alt.Axis(format=fmt, title=axis_title(metric))
    y_scale = alt.Scale(zero=False, nice=True)
    band = base.mark_area(opacity=band_opacity(shown[split].nunique() if split else 1)).encode(
        y=alt.Y("ci_low:Q", axis=y_axis, scale=y_scale), y2=alt.Y2("ci_high:Q")
    )
    line = base.mark_line().encode(y=alt.Y("value:Q", axis=y_axis, scale=y_scale), tooltip=tooltip)
    title = DIMENSIONS[split].label if split else ""
    layers: list[alt.Chart | alt.LayerChart | alt.FacetChart] = [
        _lines_over_bands(band, line, split, title, 40)
    ]
    if marks:
        changes = pl.DataFrame({grain: [m[0] for m in marks], "change": [m[1] for m in marks]}).to_pandas()
        layers.append(
            alt.Chart(changes)
            .mark_rule(strokeDash=[4, 4], color="#555555")
            .encode(x=alt.X(f"{grain}:O"), tooltip=[alt.Tooltip("change:N", title="What changed")])
        )
    if events:
        # Each label on its own line from the top (in pixels), so events a quarter apart do not overprint.
        happened = pl.DataFrame(
            {
                grain: [e[0] for e in events],
                "event": [e[1] for e in events],
                "line": [4 + 15 * i for i in range(len(events))],
            }
        ).to_pandas()
        rule = alt.Chart(happened).encode(
            x=alt.X(f"{grain}:O"), tooltip=[alt.Tooltip("event:N", title="Event")]
        )
        layers += [
            rule.mark_rule(color=PALETTE[5], strokeWidth=2),
            rule.mark_text(align="left", baseline="top", dx=4, color=PALETTE[5], fontSize=11).encode(
                text=alt.Text("event:N"), y=alt.Y("line:Q", scale=None, axis=None)
            ),
        ]
    if target is not None:
        goal = pl.DataFrame({"target": [target], "label": [target_label]})
        rule = alt.Chart(goal.to_pandas()).encode(
            y=alt.Y("target:Q", scale=y_scale), tooltip=[alt.Tooltip("label:N", title="")]
        )
        layers += [
            rule.mark_rule(strokeDash=[2, 2], color=PALETTE[2]),
            rule.mark_text(align="left", baseline="bottom", dy=-3, color=PALETTE[2], fontSize=11).encode(
                text=alt.Text("label:N"),
                x=alt.XValue(4),  # type: ignore[no-untyped-call]  # Altair leaves this one untyped
            ),
        ]
    return alt.layer(*layers).properties(height=380)


def band_opacity(lines: int) -> float:
    """Return how opaque the 95% interval bands of `lines` lines are drawn: fainter over more than
    CLEAR_BANDS lines, as nine bands at the usual opacity were a grey wash that hid the lines. They
    stay drawn: without them, a small group's swings would read as real."""
    return 0.18 if lines <= CLEAR_BANDS else 0.06


def _lines_over_bands(
    band: alt.Chart, line: alt.Chart, field: str | None, title: str, size: int
) -> alt.LayerChart | alt.FacetChart:
    """Layer lines (one per value of `field`, one blue line when None) over their interval bands, with
    a point at each value in a shape of its own, so no line rests on its colour alone. The legend the
    layers share draws its symbols opaque: drawn in the bands' pale fill, one line's swatch was hard
    to tell from another's. Colour and shape are given the same groups in the same order: Vega merges
    two legends only when their scales' domains are alike, and the exports' Vega-Lite, left to find
    each domain from its own layers, drew the shapes as a second legend, in black."""
    colour: alt.Color | alt.ColorValue = alt.ColorValue(PALETTE[0])
    shape: alt.Shape | alt.ShapeValue = alt.ShapeValue("circle")
    if field is not None:
        legend = alt.Legend(symbolOpacity=1)
        groups = sorted({str(v) for v in band.data[field].dropna()})  # as Vega-Lite sorts them
        colour = alt.Color(
            f"{field}:N", title=title, scale=alt.Scale(domain=groups, range=SERIES_COLOURS), legend=legend
        )
        shape = alt.Shape(
            f"{field}:N", title=title, scale=alt.Scale(domain=groups, range=SERIES_SHAPES), legend=legend
        )
    points = line.mark_point(filled=True, size=size).encode(color=colour, shape=shape)
    return alt.layer(band.encode(color=colour), line.encode(color=colour), points)


# How a group stands against the overall on the Equity page: a shape and a colour each, so the
# difference never rests on colour alone.
GAP_STATES = {
    "Below, beyond noise": ("triangle-down", PALETTE[5]),
    "Above, beyond noise": ("triangle-up", PALETTE[0]),
    "Within noise": ("circle", "#71767a"),
}


def _states(drawn: Iterable[object], states: Mapping[str, tuple[str, str]]) -> tuple[alt.Scale, alt.Scale]:
    """Return the shape and colour scales of `states` (each a shape and a colour), over those among
    `drawn` alone: a legend naming a state no mark is in (an "Above, beyond noise" beside worse-served
    groups only) sends a reader looking for it. Each state keeps its own shape and colour."""
    present = set(drawn)
    shown = [state for state in states if state in present] or list(states)[:1]
    return (
        alt.Scale(domain=shown, range=[states[s][0] for s in shown]),
        alt.Scale(domain=shown, range=[states[s][1] for s in shown]),
    )


@_once_per_result
def groups(
    frame: pl.DataFrame, dimension: str, metric: Metric, overall: float | None, top: float = 1.0
) -> alt.LayerChart | alt.FacetChart:
    """Each group's value with its 95% interval against a rule at the overall; groups below and above
    it beyond noise are drawn as down and up triangles in two colours, the others as grey circles. A
    share's axis runs from 0 to 100% (or to `top`, for shares that are all small: share_axis_top) and
    any other from zero, so a small gap is not drawn as a chasm."""
    fmt = _FORMATS[metric.format]
    overall = _scaled(overall, metric)
    below, above, within = GAP_STATES
    shown = (
        _drawn(frame.filter(~pl.col("suppressed")), metric)
        .with_columns(
            pl.when(pl.col("beyond_noise") & (pl.col("gap") < 0))
            .then(pl.lit(below))
            .when(pl.col("beyond_noise"))
            .then(pl.lit(above))
            .otherwise(pl.lit(within))
            .alias("gap_status"),
            # A gap between shares is in points (+3.9 pts), as the table and the text give it.
            (pl.col("gap") * (100 if metric.format == "percent" else 1)).alias("gap_shown"),
        )
        .to_pandas()
    )
    order = frame[dimension].to_list()
    # The heading names the dimension; a rotated axis title would only be truncated.
    y = alt.Y(f"{dimension}:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=260))
    x_axis = alt.Axis(format=fmt, title=axis_title(metric))
    x_scale = alt.Scale(domain=[0, top]) if metric.format == "percent" else alt.Scale(zero=True, nice=True)
    tooltip = [
        alt.Tooltip(f"{dimension}:N", title=DIMENSIONS[dimension].label),
        alt.Tooltip("value:Q", title=metric.label, format=fmt),
        alt.Tooltip(
            "gap_shown:Q",
            title="Gap to overall (points)" if metric.format == "percent" else "Gap to overall",
            format="+.1f" if metric.format == "percent" else fmt,
        ),
        alt.Tooltip("gap_status:N", title="Gap"),
        alt.Tooltip("n:Q", title="n", format=","),
    ]
    base = alt.Chart(shown).encode(y=y)
    bars = base.mark_rule(strokeWidth=2, color="#71767a").encode(
        x=alt.X("ci_low:Q", axis=x_axis, scale=x_scale), x2=alt.X2("ci_high:Q")
    )
    shape, colour = _states(shown["gap_status"], GAP_STATES)
    points = base.mark_point(size=160, strokeWidth=2, filled=True).encode(
        x=alt.X("value:Q", axis=x_axis, scale=x_scale),
        shape=alt.Shape("gap_status:N", scale=shape, title=None),
        color=alt.Color("gap_status:N", scale=colour, title=None),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = [bars, points]
    if overall is not None:
        layers.append(
            alt.Chart(pl.DataFrame({"overall": [overall]}).to_pandas())
            .mark_rule(color="#1b1b1b", strokeDash=[6, 3])
            .encode(x=alt.X("overall:Q"), tooltip=[alt.Tooltip("overall:Q", title="Overall", format=fmt)])
        )
    return alt.layer(*layers).properties(height=alt.Step(40))


@_once_per_result
def heatmap(grid: pl.DataFrame, dimension: str, labels: dict[str, str]) -> alt.LayerChart | alt.FacetChart:
    """A heat-map table: themes across (each of `labels`), groups down, each cell's share written in it;
    hidden cells show the suppression symbol, and a theme a group's surveys did not ask (no row: the
    group answered others) says "not asked", as the table does, rather than leave a blank. A theme no
    group was asked is a column of "not asked", not a column left out under a heading of four."""
    asked = grid.select(dimension, "metric", "value", "n", "suppressed")
    every = (
        asked.select(dimension)
        .unique(maintain_order=True)
        .join(pl.DataFrame({"metric": list(labels)}, schema={"metric": pl.String}), how="cross")
    )
    cells = (
        every.join(asked, on=[dimension, "metric"], how="left")
        .with_columns(
            pl.col("metric").replace_strict(labels, default=pl.col("metric")).alias("theme"),
            pl.when(pl.col("suppressed").is_null())
            .then(pl.lit(NOT_ASKED))
            .when(pl.col("suppressed"))
            .then(pl.lit(SUPPRESSED))
            .otherwise((pl.col("value") * 100).round(1).cast(pl.String) + "%")
            .alias("label"),
        )
        .to_pandas()
    )
    order = list(dict.fromkeys(grid[dimension].to_list()))
    base = alt.Chart(cells).encode(
        x=alt.X("theme:N", sort=list(labels.values()), title=None, axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y(f"{dimension}:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=260)),
    )
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "value:Q",
            scale=alt.Scale(scheme="blues", domain=[0.4, 1]),
            legend=alt.Legend(format=".0%", title="Share positive"),
        ),
        tooltip=[
            alt.Tooltip(f"{dimension}:N"),
            alt.Tooltip("theme:N"),
            alt.Tooltip("label:N", title="Share positive"),
            alt.Tooltip("n:Q", format=","),
        ],
    )
    text = base.mark_text(fontSize=13).encode(
        text=alt.Text("label:N"),
        color=alt.ColorValue("#1b1b1b", condition={"test": "datum.value > 0.75", "value": "white"}),
    )
    return alt.layer(rect, text).properties(height=alt.Step(34))


@_once_per_result
def sparkline(history: Sequence[tuple[str, float | None]], metric: Metric) -> alt.Chart:
    """A small line of the last quarters for a KPI tile: no axes, a tooltip per quarter. Hidden
    quarters are left out, not drawn as zero."""
    fmt = _FORMATS[metric.format]
    shown = pl.DataFrame(
        {
            "quarter": [q for q, v in history if v is not None],
            "value": [_scaled(v, metric) for _, v in history if v is not None],
        },
        schema={"quarter": pl.String, "value": pl.Float64},
    ).to_pandas()
    chart: alt.Chart = (
        alt.Chart(shown)
        .mark_line(point=alt.OverlayMarkDef(size=18), color=PALETTE[0])
        .encode(
            x=alt.X("quarter:O", axis=None, sort=None),
            y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("quarter:O", title="Quarter"),
                alt.Tooltip("value:Q", title=metric.label, format=fmt),
            ],
        )
        .properties(height=56)
        .configure_view(stroke=None)
    )
    return chart


def share_axis_top(values: Iterable[float | None]) -> float:
    """Return where a share axis may stop when every share drawn is small (comment themes, a few
    percent each): the next 10% above the largest, at least 10%, still from zero; else 100%."""
    largest = max((v for v in values if v is not None), default=1.0)
    return min(1.0, max(0.1, math.ceil(largest * 10 + 1e-9) / 10))


@_once_per_result
def shares_over_time(
    frame: pl.DataFrame, labels: dict[str, str], top: float = 1.0
) -> alt.LayerChart | alt.FacetChart:
    """Several share measures by quarter on one axis from 0 to 100% (or to `top`: share_axis_top), one
    colour and shape each. `frame`: quarter, measure (a name of `labels`), value (null where hidden)."""
    # Hidden points stay in the data as nulls, which Vega-Lite leaves out of lines and points: with
    # every point hidden, an empty dataset would make the image export fail ("invalid size").
    shown = frame.with_columns(pl.col("measure").replace_strict(labels, default=None).alias("label"))
    order = list(dict.fromkeys(frame["quarter"].to_list()))
    names = list(labels.values())
    base = alt.Chart(shown.to_pandas()).encode(
        x=alt.X("quarter:O", title=None, sort=order, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("value:Q", title="Share", scale=alt.Scale(domain=[0, top]), axis=alt.Axis(format="%")),
        color=alt.Color("label:N", title=None, scale=alt.Scale(domain=names, range=PALETTE)),
    )
    # Colour and shape over the same measures in the same order: one legend (see _lines_over_bands).
    shape = alt.Shape("label:N", title=None, scale=alt.Scale(domain=names))
    lines = base.mark_line(strokeWidth=2).encode(
        shape=shape,
        tooltip=[
            alt.Tooltip("label:N", title="Measure"),
            alt.Tooltip("quarter:O", title="Quarter"),
            alt.Tooltip("value:Q", title="Value", format=".1%"),
        ],
    )
    points = base.mark_point(size=40, filled=True).encode(shape=shape)
    return alt.layer(lines, points).properties(height=260)


@_once_per_result
def gaps(frame: pl.DataFrame) -> alt.LayerChart | alt.FacetChart:
    """Each listed gap with its 95% interval against a rule at zero, worse-served groups as down
    triangles and better-served as up ones (GAP_STATES), in the list's order. `frame`: label, gap,
    low, high, side ("below" or "above")."""
    below, above, _ = GAP_STATES
    # A gap between two shares is in points, as the list says it (-17.2 pts): drawn as -17%, it would
    # read as a relative fall.
    shown = frame.with_columns(
        pl.col("gap", "low", "high") * 100,
        pl.when(pl.col("side") == "below").then(pl.lit(below)).otherwise(pl.lit(above)).alias("status"),
    ).to_pandas()
    y = alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=420, labelOverlap=False))
    # Signed, as gaps are told, but zero bare: "+0" read as a small gain.
    axis = alt.Axis(
        labelExpr="(datum.value > 0 ? '+' : '') + format(datum.value, '.0f')",
        title="Gap to the people compared with (points)",
    )
    base = alt.Chart(shown).encode(y=y)
    bars = base.mark_rule(strokeWidth=2, color="#71767a").encode(
        x=alt.X("low:Q", axis=axis), x2=alt.X2("high:Q")
    )
    shape, colour = _states(shown["status"], {s: GAP_STATES[s] for s in (below, above)})
    points = base.mark_point(size=160, filled=True).encode(
        x=alt.X("gap:Q", axis=axis),
        shape=alt.Shape("status:N", scale=shape, title=None),
        color=alt.Color("status:N", scale=colour, title=None),
        tooltip=[
            alt.Tooltip("label:N", title="Who"),
            alt.Tooltip("gap:Q", title="Gap (points)", format="+.1f"),
            alt.Tooltip("low:Q", title="95% interval from", format="+.1f"),
            alt.Tooltip("high:Q", title="to", format="+.1f"),
        ],
    )
    zero = (
        alt.Chart(pl.DataFrame({"zero": [0.0]}).to_pandas())
        .mark_rule(color="#1b1b1b")
        .encode(x=alt.X("zero:Q"))
    )
    return alt.layer(bars, points, zero).properties(height=alt.Step(34))


@_once_per_result
def quadrants(table: pl.DataFrame) -> alt.LayerChart | alt.FacetChart:
    """Each driver's importance to trust (with its 95% interval) against its performance, coloured by
    quadrant, with dashed rules at an equal share of importance and at the median performance, and
    the fix-first corner named. `table`: a ranked `Importance.drivers` with a `label` per driver."""
    shown = table.filter(pl.col("importance").is_not_null() & pl.col("performance").is_not_null())
    frame = shown.to_pandas()
    median = float(shown["performance"].median() or 0.0)  # type: ignore[arg-type]
    base = alt.Chart(frame).encode(
        x=alt.X(
            "importance:Q",
            title="Importance to trust (share of explained variance)",
            axis=alt.Axis(format=".0%"),
        ),
        y=alt.Y(
            "performance:Q",
            title="Performance (share answering 4 or 5)",
            axis=alt.Axis(format=".0%"),
            scale=alt.Scale(zero=False),
        ),
    )
    fmt = _FORMATS["percent"]
    tooltip = [
        alt.Tooltip("label:N", title="Driver"),
        alt.Tooltip("importance:Q", title="Importance", format=fmt),
        alt.Tooltip("ci_low:Q", title="95% interval from", format=fmt),
        alt.Tooltip("ci_high:Q", title="95% interval to", format=fmt),
        alt.Tooltip("performance:Q", title="Performance", format=fmt),
        alt.Tooltip("quadrant:N", title="Quadrant"),
        alt.Tooltip("near_the_line:N", title="Within sampling noise of the line"),
    ]
    # One legend of colour and shape, over the same four quadrants: with the shapes' legend turned
    # off, the page's Vega-Lite merged the two legends into none, and the page drew three kinds of
    # mark with nothing to say what they meant.
    quadrants = list(QUADRANTS.values())
    legend = alt.Legend(symbolOpacity=1)
    colour = alt.Color(
        "quadrant:N",
        title="Quadrant",
        scale=alt.Scale(domain=quadrants, range=[PALETTE[5], PALETTE[2], PALETTE[1], PALETTE[0]]),
        legend=legend,
    )
    shape = alt.Shape(
        "quadrant:N",
        title="Quadrant",
        scale=alt.Scale(domain=quadrants, range=["circle", "diamond", "triangle-up", "square"]),
        legend=legend,
    )
    interval = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q"), x2=alt.X2("ci_high:Q"), color=colour)
    points = base.mark_point(filled=True, size=140).encode(color=colour, shape=shape, tooltip=tooltip)
    # A driver's name reads to the right of its point, or to the left in the right part of the plot,
    # so that on a phone's width "Effectiveness" is not cut at the edge.
    right = f"datum.importance > {0.6 * float(frame['ci_high'].max()) if len(frame) else 0.0}"
    sides: tuple[tuple[str, Literal["left", "right"], int], ...] = (
        (f"!({right})", "left", 9),
        (right, "right", -9),
    )
    labels = alt.layer(
        *(
            base.transform_filter(test)
            .mark_text(align=align, dx=dx, dy=-9, fontSize=13, color="#1b1b1b")
            .encode(text=alt.Text("label:N"))
            for test, align, dx in sides
        )
    )
    rules = (
        alt.Chart(pl.DataFrame({"x": [EQUAL_SHARE]}).to_pandas())
        .mark_rule(strokeDash=[4, 4], color="#555555")
        .encode(x=alt.X("x:Q"))
    )
    hline = (
        alt.Chart(pl.DataFrame({"y": [median]}).to_pandas())
        .mark_rule(strokeDash=[4, 4], color="#555555")
        .encode(y=alt.Y("y:Q"))
    )
    corner = (
        alt.Chart(
            pl.DataFrame(
                {"x": [shown["ci_high"].max()], "y": [shown["performance"].min()], "t": [FIX_FIRST]}
            ).to_pandas()
        )
        .mark_text(align="right", baseline="bottom", fontWeight="bold", color=PALETTE[5], dy=-4)
        .encode(x=alt.X("x:Q"), y=alt.Y("y:Q"), text=alt.Text("t:N"))
    )
    return alt.layer(rules, hline, interval, points, labels, corner).properties(height=420)


@_once_per_result
def checklist(table: pl.DataFrame) -> alt.Chart:
    """Paired bars of each driver's share saying it went well (among those who trusted) and could
    improve (among those who did not), drivers in the table's order; hidden shares are left out.
    `table`: a `v2_checklist` with a `label` per driver."""
    long = pl.concat(
        [
            table.select(
                "label",
                pl.col(f"{side}").alias("value"),
                pl.col(f"{side}_ci_low").alias("ci_low"),
                pl.col(f"{side}_ci_high").alias("ci_high"),
                pl.lit(title).alias("side"),
            )
            for side, title in (
                ("went_well", "Went well (trusted)"),
                ("could_improve", "Could improve (did not)"),
            )
        ]
    ).filter(pl.col("value").is_not_null())
    fmt = _FORMATS["percent"]
    chart: alt.Chart = (
        alt.Chart(long.to_pandas())
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=table["label"].to_list()),
            yOffset=alt.YOffset("side:N"),
            x=alt.X("value:Q", title="Share selecting the driver", axis=alt.Axis(format=".0%")),
            color=alt.Color("side:N", title=None, scale=alt.Scale(range=[PALETTE[0], PALETTE[1]])),
            tooltip=[
                alt.Tooltip("label:N", title="Driver"),
                alt.Tooltip("side:N", title="Answer"),
                alt.Tooltip("value:Q", title="Share", format=fmt),
                alt.Tooltip("ci_low:Q", title="95% interval from", format=fmt),
                alt.Tooltip("ci_high:Q", title="95% interval to", format=fmt),
            ],
        )
        .properties(height=alt.Step(16))
    )
    return chart


@_once_per_result
def journey(scores: pl.DataFrame, moment: Moment | None) -> alt.LayerChart | alt.FacetChart:
    """Each theme's share positive across the journey stages in order, with its 95% interval band, and
    the moment that matters shaded. `scores`: a `Journey.scores` with a `theme` label per metric."""
    frame = scores.filter(~pl.col("suppressed")).to_pandas()
    x = alt.X("journey_stage:O", title="Journey stage", sort=list(STAGES), axis=alt.Axis(labelAngle=0))
    base = alt.Chart(frame).encode(x=x)
    band = base.mark_area(opacity=0.12).encode(y=alt.Y("ci_low:Q"), y2=alt.Y2("ci_high:Q"))
    line = base.mark_line().encode(
        y=alt.Y("value:Q", title="Share positive", axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
        tooltip=[
            alt.Tooltip("journey_stage:O", title="Stage"),
            alt.Tooltip("theme:N", title="Theme"),
            alt.Tooltip("value:Q", title="Share positive", format=_FORMATS["percent"]),
            alt.Tooltip("n:Q", title="n", format=","),
        ],
    )
    layers: list[alt.Chart | alt.LayerChart | alt.FacetChart] = [
        _lines_over_bands(band, line, "theme", "Theme", 50)
    ]
    if moment is not None:
        highlight = pl.DataFrame(
            {"journey_stage": [moment.stage], "label": ["Moment that matters"]}
        ).to_pandas()
        layers.insert(
            0,
            alt.Chart(highlight)
            .mark_rule(color=PALETTE[5], strokeWidth=28, opacity=0.18)
            .encode(x=x, tooltip=[alt.Tooltip("label:N", title="")]),
        )
    return alt.layer(*layers).properties(height=360)


@_once_per_result
def transactions_by_channel(table: pl.DataFrame, baseline: str, quarter: str) -> alt.Chart:
    """Paired bars of each channel's transactions at the baseline and in the quarter, channels in the
    table's order; hidden counts are left out. `table`: a `Value.channels` with a `label` per channel."""
    long = pl.concat(
        [
            table.select(
                "label",
                "self_service",
                pl.col("baseline_transactions").alias("transactions"),
                pl.lit(baseline).alias("quarter"),
            ),
            table.select("label", "self_service", "transactions", pl.lit(quarter).alias("quarter")),
        ]
    ).filter(pl.col("transactions").is_not_null())
    chart: alt.Chart = (
        alt.Chart(long.to_pandas())
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=table["label"].to_list(), axis=alt.Axis(labelLimit=220)),
            yOffset=alt.YOffset("quarter:N", sort=[baseline, quarter]),
            x=alt.X("transactions:Q", title="Transactions"),
            color=alt.Color(
                "quarter:N",
                title="Quarter",
                sort=[baseline, quarter],
                scale=alt.Scale(range=PALETTE[:2]),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Channel"),
                alt.Tooltip("quarter:N", title="Quarter"),
                alt.Tooltip("transactions:Q", title="Transactions", format=","),
            ],
        )
        .properties(height=alt.Step(14))
    )
    return chart


@_once_per_result
def towards_targets(frame: pl.DataFrame) -> alt.LayerChart | alt.FacetChart | alt.VConcatChart:
    """Each measure of an outcome by quarter, one colour and shape each, with a dashed rule in its
    colour at its target. `frame`: measure (label), quarter, value (null where hidden or no data),
    target, format. Measures of one format share an axis; those of different scales (a share, a wait,
    a gap in points) are drawn a panel per format, each on its own axis, as one axis would misread
    them."""
    names = list(dict.fromkeys(frame["measure"].to_list()))
    formats = dict(zip(frame["measure"].to_list(), frame["format"].to_list(), strict=True))
    kinds = list(dict.fromkeys(formats.values()))
    order = list(dict.fromkeys(frame.sort("quarter")["quarter"].to_list()))
    # Every panel's colours and shapes over every measure, so the panels share one legend.
    colour = alt.Color("measure:N", title=None, scale=alt.Scale(domain=names, range=PALETTE))
    shape = alt.Shape("measure:N", title=None, scale=alt.Scale(domain=names))
    if len(kinds) <= 1:
        return _towards(frame, order, next(iter(kinds), "number"), colour, shape, 220)
    panels = [
        _towards(frame.filter(pl.col("format") == kind), order, kind, colour, shape, 130) for kind in kinds
    ]
    return alt.vconcat(*panels)


def _towards(
    frame: pl.DataFrame, order: list[str], fmt: str, colour: alt.Color, shape: alt.Shape, height: int
) -> alt.LayerChart | alt.FacetChart:
    """One axis of `towards_targets`: a duration's seconds drawn as minutes, as every chart draws them,
    and a gap between shares in points."""
    frame = _in_minutes(frame, fmt, ("value", "target"))
    if fmt == POINTS:
        frame = frame.with_columns(pl.col("value", "target") * 100)
    axis = ".0%" if fmt == "percent" else ",.0f"
    title = {"duration": "minutes", POINTS: "points"}.get(fmt)
    base = alt.Chart(frame.to_pandas())
    # A quarter with no value (hidden, no data) leaves a gap in its line; its target still shows.
    line = base.mark_line(strokeWidth=2).encode(
        x=alt.X("quarter:O", title=None, sort=order, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("value:Q", title=title, axis=alt.Axis(format=axis), scale=alt.Scale(zero=True, nice=True)),
        color=colour,
    )
    points = line.mark_point(size=50, filled=True).encode(
        shape=shape,
        tooltip=[
            alt.Tooltip("measure:N", title="Measure"),
            alt.Tooltip("quarter:O", title="Quarter"),
            alt.Tooltip("value:Q", title="Value", format=_FORMATS.get(fmt, ",.2f")),
            alt.Tooltip("target:Q", title="Target", format=_FORMATS.get(fmt, ",.2f")),
        ],
    )
    targets = base.mark_rule(strokeDash=[6, 3], strokeWidth=1.5).encode(y="mean(target):Q", color=colour)
    return alt.layer(line, points, targets).properties(height=height)
