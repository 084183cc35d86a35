"""Charts draw what the tables say: a wait in minutes, as the tables print it (4m 05s), not seconds."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

import altair as alt
import polars as pl
import vl_convert as vlc

from dashboard import charts
from dashboard.briefing import EXPORT_WIDTH, Exhibit, export_chart, png_bytes, svg_bytes
from metrics.catalog import load_catalog
from metrics.provenance import Provenance


def test_a_wait_is_drawn_in_minutes_with_its_target_named_in_the_tables_words() -> None:
    metric = load_catalog().metrics["wait_median"]
    frame = pl.DataFrame(
        {
            "fiscal_quarter": ["FY2025 Q1"],
            "value": [150.0],
            "n": [40],
            "ci_low": [120.0],
            "ci_high": [180.0],
            "suppressed": [False],
        }
    )
    spec = charts.trend(frame, metric, "fiscal_quarter", None, target=240.0).to_dict()
    drawn = next(iter(spec["datasets"].values()))[0]
    assert (drawn["value"], drawn["ci_low"], drawn["ci_high"]) == (2.5, 2.0, 3.0)
    assert charts.axis_title(metric) == "Median wait (minutes)"
    goal = next(d for d in spec["datasets"].values() if d and "target" in d[0])[0]
    assert (goal["target"], goal["label"]) == (4.0, "Target 4m 00s")


def test_shares_over_time_with_every_point_hidden_still_exports_as_an_image() -> None:
    # A small service's comment themes, every quarter hidden: the slide and PNG must still be made.
    hidden = pl.DataFrame(
        {"quarter": ["FY2025 Q1", "FY2025 Q2"], "measure": ["trust", "trust"], "value": [None, None]},
        schema={"quarter": pl.String, "measure": pl.String, "value": pl.Float64},
    )
    chart = charts.shares_over_time(hidden, {"trust": "Trust"})
    png = vlc.vegalite_to_png(chart.properties(width=760).to_dict(), ppi=100)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = next(iter(chart.to_dict()["datasets"].values()))
    assert [row["value"] for row in drawn] == [None, None]  # nothing drawn, nothing made up


def test_an_outcome_of_a_share_and_a_wait_draws_each_on_its_own_axis() -> None:
    # One axis for 85% and 240 seconds would read the share as nothing: a panel each, the wait in
    # minutes as every chart draws it.
    frame = pl.DataFrame(
        {
            "measure": ["Ease", "Ease", "Median wait", "Median wait"],
            "quarter": ["FY2026 Q3", "FY2026 Q4", "FY2026 Q3", "FY2026 Q4"],
            "value": [0.82, 0.85, 300.0, None],
            "target": [0.85, 0.85, 240.0, 240.0],
            "format": ["percent", "percent", "duration", "duration"],
        }
    )
    spec = charts.towards_targets(frame).to_dict()
    share, wait = spec["vconcat"]
    assert share["layer"][0]["encoding"]["y"]["axis"]["format"] == ".0%"
    assert wait["layer"][0]["encoding"]["y"]["title"] == "minutes"
    drawn = spec["datasets"][wait["data"]["name"]]
    assert [(r["value"], r["target"]) for r in drawn] == [(5.0, 4.0), (None, 4.0)]
    png = vlc.vegalite_to_png(charts.towards_targets(frame).to_dict(), ppi=100)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # Measures of one format keep one axis.
    alike = charts.towards_targets(frame.filter(pl.col("format") == "percent")).to_dict()
    assert "vconcat" not in alike and alike["layer"][0]["encoding"]["y"]["axis"]["format"] == ".0%"


def test_an_outcomes_equity_gap_is_drawn_in_points_on_its_own_axis() -> None:
    # A 4-point gap on the shares' axis would read as 4% beside an 85% share, and its line would hug
    # zero: it gets a panel of its own, in points.
    frame = pl.DataFrame(
        {
            "measure": ["Ease", "Ease", "Trust", "Trust", "Widest gap", "Widest gap"],
            "quarter": ["FY2026 Q3", "FY2026 Q4"] * 3,
            "value": [0.82, 0.85, 0.7, 0.72, 0.061, 0.039],
            "target": [0.85, 0.85, 0.75, 0.75, 0.05, 0.05],
            "format": ["percent"] * 4 + ["points"] * 2,
        }
    )
    spec = charts.towards_targets(frame).to_dict()
    share, gap = spec["vconcat"]  # the two shares on one axis, the gap on its own
    assert share["layer"][0]["encoding"]["y"]["axis"]["format"] == ".0%"
    assert {r["measure"] for r in spec["datasets"][share["data"]["name"]]} == {"Ease", "Trust"}
    # Each panel's colours and shapes span every measure, so the panels share one legend.
    for panel in (share, gap):
        encoding = panel["layer"][1]["encoding"]
        assert (
            encoding["shape"]["scale"]["domain"]
            == encoding["color"]["scale"]["domain"]
            == [
                "Ease",
                "Trust",
                "Widest gap",
            ]
        )
    assert gap["layer"][0]["encoding"]["y"]["title"] == "points"
    assert gap["layer"][0]["encoding"]["y"]["axis"]["format"] == ",.0f"
    drawn = spec["datasets"][gap["data"]["name"]]
    assert [(round(r["value"], 6), round(r["target"], 6)) for r in drawn] == [(6.1, 5.0), (3.9, 5.0)]
    # Panels stacked export too (the deck, PNG and SVG), each panel at the export's width.
    exhibit = Exhibit("Travelers: progress towards the targets", frame, frame, charts.towards_targets(frame))
    when = datetime(2026, 12, 1, tzinfo=UTC)
    provenance = Provenance(
        "Outcomes", "all", "FY2026 Q3 to FY2026 Q4", "today", "sql-0", 10, "http://x/o", when
    )
    exported = export_chart(exhibit, provenance).to_dict()
    assert [panel["width"] for panel in exported["vconcat"]] == [EXPORT_WIDTH, EXPORT_WIDTH]
    assert exported["title"]["text"] == exhibit.title
    assert png_bytes(exhibit, provenance)[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"points" in svg_bytes(exhibit, provenance)


def test_the_memory_of_built_charts_lets_the_least_recently_used_go() -> None:
    from dashboard.kept import Kept

    kept: Kept[str, int] = Kept(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" is now the more recently used
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (1, None, 3)


def test_the_heat_map_writes_hidden_and_not_asked_cells_apart() -> None:
    # Email answered trust alone (v2 surveys): its ease was not asked. Phone's trust is hidden.
    grid = pl.DataFrame(
        {
            "channel": ["Website", "Website", "Email", "Phone"],
            "metric": ["trust", "ease", "trust", "trust"],
            "value": [0.8, 0.7, 0.75, None],
            "n": [200, 200, 40, None],
            "suppressed": [False, False, False, True],
        }
    )
    drawn = charts.heatmap(grid, "channel", {"trust": "Trust", "ease": "Ease"})
    cells = drawn.data  # the layers share the chart's data
    label = {(r["channel"], r["theme"]): r["label"] for r in cells.to_dict("records")}
    assert label == {
        ("Website", "Trust"): "80.0%", ("Website", "Ease"): "70.0%",
        ("Email", "Trust"): "75.0%", ("Email", "Ease"): "not asked",
        ("Phone", "Trust"): "†", ("Phone", "Ease"): "not asked",
    }  # fmt: skip
    # Surveys that asked none of the groups about effectiveness: its column says so in each cell. It
    # was left out, under a heading of the four themes.
    drawn = charts.heatmap(
        grid, "channel", {"trust": "Trust", "ease": "Ease", "effectiveness": "Effectiveness"}
    )
    label = {(r["channel"], r["theme"]): r["label"] for r in drawn.data.to_dict("records")}
    assert [label[(c, "Effectiveness")] for c in ("Website", "Email", "Phone")] == ["not asked"] * 3


def test_a_gap_between_shares_is_drawn_and_told_in_points() -> None:
    # -17.2 pts drawn on an axis of -17% would read as a relative fall: the list says points, so does
    # the chart, its axis and its tooltip.
    frame = pl.DataFrame(
        {
            "label": ["Ease: customers in rural areas aged 65+"],
            "gap": [-0.172],
            "low": [-0.219],
            "high": [-0.124],
            "side": ["below"],
        }
    )
    spec = charts.gaps(frame).to_dict()
    drawn = next(iter(spec["datasets"].values()))[0]
    assert (round(drawn["gap"], 6), round(drawn["low"], 6), round(drawn["high"], 6)) == (-17.2, -21.9, -12.4)
    bars, points, _ = spec["layer"]
    assert bars["encoding"]["x"]["axis"]["title"] == "Gap to the people compared with (points)"
    # The axis as drawn: gains signed, zero bare ("+0" read as a small gain).
    both = pl.concat(
        [
            frame,
            frame.with_columns(gap=pl.lit(0.08), low=pl.lit(0.03), high=pl.lit(0.12), side=pl.lit("above")),
        ]
    )
    svg = vlc.vegalite_to_svg(charts.gaps(both).to_dict())
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    ticks = [t for t in texts if re.fullmatch("[+\u2212]?[0-9]+", t)]
    assert "0" in ticks and "+0" not in ticks and {"+5", "\u22125"} <= set(ticks), ticks
    # The legend names only the states drawn.
    assert _legend_labels(charts.gaps(frame)) == ["Below, beyond noise"]
    assert _legend_labels(charts.gaps(both)) == ["Below, beyond noise", "Above, beyond noise"]
    tips = {t["field"]: (t["title"], t["format"]) for t in points["encoding"]["tooltip"] if "format" in t}
    assert tips["gap"] == ("Gap (points)", "+.1f")


def test_an_equity_groups_gap_to_the_overall_is_told_in_points_for_a_share_and_in_minutes_for_a_wait() -> (
    None
):
    catalog = load_catalog().metrics
    frame = pl.DataFrame(
        {
            "age_band": ["65+"],
            "value": [0.62],
            "n": [300],
            "ci_low": [0.57],
            "ci_high": [0.67],
            "gap": [-0.081],
            "beyond_noise": [True],
            "suppressed": [False],
        }
    )
    for name, gap, title, fmt in (
        ("trust", -8.1, "Gap to overall (points)", "+.1f"),
        ("wait_median", -0.081 / 60, "Gap to overall", ",.1f"),
    ):
        spec = charts.groups(frame, "age_band", catalog[name], 0.7).to_dict()
        drawn = next(iter(spec["datasets"].values()))[0]
        assert round(drawn["gap_shown"], 9) == round(gap, 9)
        tips = {t["field"]: (t["title"], t.get("format")) for t in spec["layer"][1]["encoding"]["tooltip"]}
        assert tips["gap_shown"] == (title, fmt)
    # Each state keeps its shape and colour; the legend names only those drawn.
    assert _legend_labels(charts.groups(frame, "age_band", catalog["trust"], 0.7)) == ["Below, beyond noise"]
    calm = frame.with_columns(beyond_noise=pl.lit(False))
    assert _legend_labels(charts.groups(calm, "age_band", catalog["trust"], 0.7)) == ["Within noise"]
    encoding = charts.groups(calm, "age_band", catalog["trust"], 0.7).to_dict()["layer"][1]["encoding"]
    assert encoding["shape"]["scale"] == {"domain": ["Within noise"], "range": ["circle"]}
    assert encoding["color"]["scale"] == {"domain": ["Within noise"], "range": ["#71767a"]}


def _legends(chart: object) -> list[tuple[str, list[str], object]]:
    """The legends Vega draws for a chart: each one's title, the channels it shows and its symbols'
    opacity."""
    vega = vlc.vegalite_to_vega(chart.to_dict())  # type: ignore[attr-defined]
    return [
        (
            legend.get("title"),
            sorted(k for k in ("fill", "shape") if k in legend),
            legend.get("symbolOpacity"),
        )
        for legend in vega.get("legends", [])
    ]


def _legend_labels(chart: object) -> list[str]:
    """The labels of the legends Vega draws for a chart, in order."""
    svg = vlc.vegalite_to_svg(chart.to_dict())  # type: ignore[attr-defined]
    legends = svg[svg.index('role-legend"') :] if 'role-legend"' in svg else ""
    return re.findall(r"role-legend-label.*?<text[^>]*>([^<]*)</text>", legends, flags=re.S)


def test_lines_over_interval_bands_have_an_opaque_legend_of_colour_and_shape() -> None:
    # The legend was drawn in the bands' pale fill (Ease's pale blue beside Emotion's pale green), and
    # the lines told apart by colour alone: opaque symbols, and each line's points in a shape of its own.
    scores = pl.DataFrame(
        {
            "journey_stage": ["Learn", "Apply"] * 2,
            "metric": ["trust", "trust", "ease", "ease"],
            "theme": ["Trust", "Trust", "Ease", "Ease"],
            "value": [0.7, 0.72, 0.8, 0.82],
            "n": [100] * 4,
            "ci_low": [0.65, 0.67, 0.75, 0.77],
            "ci_high": [0.75, 0.77, 0.85, 0.87],
            "suppressed": [False] * 4,
        }
    )
    # One legend of colour and shape together: the exports' Vega-Lite, finding each scale's groups
    # from its own layers, drew the shapes as a second legend, in black.
    assert _legends(charts.journey(scores, None)) == [("Theme", ["fill", "shape"], 1)]
    trust = load_catalog().metrics["trust"]
    by_channel = scores.rename({"journey_stage": "fiscal_quarter", "theme": "channel"})
    assert _legends(charts.trend(by_channel, trust, "fiscal_quarter", "channel")) == [
        ("Channel", ["fill", "shape"], 1)
    ]
    # The band, the line and the points of a group are drawn in one colour: one scale.
    band, line, points = (
        layer["encoding"] for layer in charts.journey(scores, None).to_dict()["layer"][0]["layer"]
    )
    assert band["color"] == line["color"] == points["color"]
    assert points["shape"]["field"] == "theme"
    # One line needs no legend at all.
    one = by_channel.filter(pl.col("channel") == "Trust")
    assert _legends(charts.trend(one, trust, "fiscal_quarter", None)) == []


def test_a_split_of_many_groups_draws_no_two_alike() -> None:
    # Nine channels on eight colours and eight shapes drew Website as Automated phone was drawn.
    assert math.gcd(len(charts.SERIES_COLOURS), len(charts.SERIES_SHAPES)) == 1
    drawn = [
        (
            charts.SERIES_COLOURS[i % len(charts.SERIES_COLOURS)],
            charts.SERIES_SHAPES[i % len(charts.SERIES_SHAPES)],
        )
        for i in range(90)
    ]
    assert len(set(drawn)) == 90
    assert len(set(charts.SERIES_COLOURS)) == len(charts.SERIES_COLOURS)
    assert len(set(charts.SERIES_SHAPES)) == len(charts.SERIES_SHAPES)
    channels = [f"channel {i}" for i in range(9)]
    frame = pl.DataFrame(
        {
            "fiscal_quarter": ["FY2025 Q1"] * 9,
            "channel": channels,
            "value": [0.5 + i / 100 for i in range(9)],
            "n": [100] * 9,
            "ci_low": [0.4] * 9,
            "ci_high": [0.6] * 9,
            "suppressed": [False] * 9,
        }
    )
    trust = load_catalog().metrics["trust"]
    layers = charts.trend(frame, trust, "fiscal_quarter", "channel").to_dict()["layer"][0]["layer"]
    marks = [layer["mark"]["type"] for layer in layers]
    points = layers[marks.index("point")]["encoding"]
    assert points["color"]["scale"] == {"domain": channels, "range": charts.SERIES_COLOURS}
    assert points["shape"]["scale"] == {"domain": channels, "range": charts.SERIES_SHAPES}
    # Nine bands at the usual opacity were a grey wash: drawn fainter, and still drawn; four as usual.
    assert layers[marks.index("area")]["mark"]["opacity"] == 0.06
    four = frame.filter(pl.col("channel").is_in(channels[:4]))
    layers = charts.trend(four, trust, "fiscal_quarter", "channel").to_dict()["layer"][0]["layer"]
    assert layers[0]["mark"] == {"type": "area", "opacity": 0.18}


def test_a_legend_below_the_plot_leaves_the_plot_its_height() -> None:
    # Fitted into the chart's height as a whole, a trend split nine ways (a legend five rows long) was
    # drawn with a plot a few lines tall: the width is fitted to the page, the height is the plot's.
    from dashboard import exhibits

    frame = pl.DataFrame({"quarter": ["FY2025 Q1", "FY2025 Q2"], "value": [0.6, 0.7], "group": ["a", "b"]})
    chart = (
        alt.Chart(frame.to_pandas())
        .mark_line()
        .encode(x="quarter:O", y="value:Q", color="group:N")
        .properties(height=380)
    )
    _, found = exhibits._specified(chart, legend_below=True)
    spec = json.loads(found.spec)
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert spec["height"] == 380 and spec["config"]["legend"]["orient"] == "bottom"


def test_a_chart_of_colour_and_shape_draws_one_legend_saying_what_each_mark_means() -> None:
    # The driver quadrants turned their shapes' legend off; the page's Vega-Lite then merged colour's
    # legend into it and drew none, so Watch, Maintain and Fix first were three marks unexplained.
    drivers = pl.DataFrame(
        {
            "label": ["Ease", "Humanity", "Efficiency"],
            "importance": [0.3, 0.1, 0.16],
            "ci_low": [0.25, 0.05, 0.12],
            "ci_high": [0.35, 0.15, 0.2],
            "performance": [0.7, 0.8, 0.6],
            "quadrant": ["Fix first", "Maintain", "Watch"],
            "near_the_line": ["no", "no", "yes"],
        }
    )
    assert _legends(charts.quadrants(drivers)) == [("Quadrant", ["fill", "shape"], 1)]
    points = next(
        layer["encoding"]
        for layer in charts.quadrants(drivers).to_dict()["layer"]
        if layer["mark"]["type"] == "point"
    )
    assert points["shape"]["legend"] == points["color"]["legend"] == {"symbolOpacity": 1}
    assert (
        points["shape"]["scale"]["domain"]
        == points["color"]["scale"]["domain"]
        == [
            "Fix first",
            "Keep it up",
            "Watch",
            "Maintain",
        ]
    )
    # A driver in the right part of the plot is named to the left of its point, so that on a phone
    # its name is not cut at the edge; the others to the right.
    svg = vlc.vegalite_to_svg(charts.quadrants(drivers).to_dict())
    anchors = {
        text: anchor
        for anchor, text in re.findall(
            r'<text [^>]*text-anchor="(\w+)"[^>]*>(Ease|Humanity|Efficiency)</text>', svg
        )
    }
    assert anchors == {"Ease": "end", "Humanity": "start", "Efficiency": "start"}, anchors
    # The themes over time: one legend, not the shapes again in black.
    themes = pl.DataFrame(
        {
            "quarter": ["FY2025 Q1", "FY2025 Q2"] * 2,
            "measure": ["a", "a", "b", "b"],
            "value": [0.1, 0.2, 0.3, None],
        }
    )
    assert [
        (title, channels)
        for title, channels, _ in _legends(charts.shares_over_time(themes, {"a": "A", "b": "B"}))
    ] == [(None, ["fill", "shape"])]
