"""What makes a page run cheap keeps the page the same: a chart is built once per result and drawn
from its kept specification, and what is drawn is what st.altair_chart draws. (How fast is for the
load test, tests/load/load_test.py, not for a timed test.)"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import pytest
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec
from streamlit.testing.v1 import AppTest

from dashboard import charts, exhibits
from dashboard.kept import Kept
from metrics.catalog import load_catalog


def _series(values: list[float]) -> pl.DataFrame:
    quarters = [f"FY{2023 + i // 4} Q{i % 4 + 1}" for i in range(len(values))]
    return pl.DataFrame(
        {
            "fiscal_quarter": quarters,
            "value": values,
            "n": [120] * len(values),
            "ci_low": [v - 0.05 for v in values],
            "ci_high": [v + 0.05 for v in values],
            "suppressed": [False] * len(values),
        }
    )


def test_a_chart_is_built_once_per_result_and_anew_when_any_row_differs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metric = load_catalog().metrics["trust"]
    built: list[int] = []
    monkeypatch.setattr(charts, "_built", Kept(8))  # none kept from another test
    monkeypatch.setattr(alt, "layer", _counting(alt.layer, built))
    values = [0.5 + i / 100 for i in range(30)]
    first = charts.trend(_series(values), metric, "fiscal_quarter", None, target=0.7)
    layered = len(built)  # a trend's layers are layered more than once (its lines over their bands)
    assert layered >= 1
    # An equal result computed again (another object) gives an equal chart, not built again, and
    # each call has its own copy.
    again = charts.trend(_series(list(values)), metric, "fiscal_quarter", None, target=0.7)
    assert again.to_dict() == first.to_dict() and again is not first
    assert len(built) == layered
    # A row in the middle differs: a new chart with that number in it (a key over the first and
    # last rows only, as Streamlit's own hash of a polars frame is, would miss it).
    changed = [*values[:15], 0.9, *values[16:]]
    other = charts.trend(_series(changed), metric, "fiscal_quarter", None, target=0.7)
    drawn = next(d for d in other.to_dict()["datasets"].values() if len(d) == 30)
    assert drawn[15]["value"] == 0.9
    # Other choices, another chart.
    assert "Target" not in str(charts.trend(_series(values), metric, "fiscal_quarter", None).to_dict())
    assert len(built) == 3 * layered


def _counting(function: Any, calls: list[int]) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return function(*args, **kwargs)

    return counted


def test_a_chart_is_converted_once_however_often_it_is_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    converted: list[int] = []
    monkeypatch.setattr(exhibits, "_specs", Kept(8))  # none kept from another test
    monkeypatch.setattr(
        exhibits, "_convert_altair_to_vega_lite_spec", _counting(_convert_altair_to_vega_lite_spec, converted)
    )
    history = [("FY2025 Q1", 0.61), ("FY2025 Q2", 0.64)]
    metric = load_catalog().metrics["ease"]
    drawn, first = exhibits._specified(charts.sparkline(history, metric), legend_below=True)
    # The same chart built again (a copy from charts.py) is drawn from the kept specification.
    chart = charts.sparkline(list(history), metric)
    again, found = exhibits._specified(chart, legend_below=True)
    assert found is first and len(converted) == 1
    # The chart as drawn carries the legends below; the chart itself is left as it was.
    assert drawn.to_dict() == again.to_dict()
    assert again.to_dict()["config"]["legend"]["orient"] == "bottom"
    assert "legend" not in chart.to_dict().get("config", {})


def _both_ways() -> None:
    """Draw one chart with st.altair_chart and with exhibits.plot, legends below in both."""
    import altair as alt
    import polars as pl
    import streamlit as st

    from dashboard import exhibits

    frame = pl.DataFrame({"quarter": ["FY2025 Q1", "FY2025 Q2"], "value": [0.6, 0.7], "group": ["a", "b"]})
    chart = (
        alt.Chart(frame.to_pandas())
        .mark_line(point=True)
        .encode(x=alt.X("quarter:O"), y=alt.Y("value:Q"), color=alt.Color("group:N", title=None))
        .properties(height=200)
    )
    below = chart.configure_legend(orient="bottom", columns=2, labelLimit=exhibits.LEGEND_LABEL_LIMIT)
    st.altair_chart(
        below.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding")),
        width="stretch",
        alt="A line.",
    )
    exhibits.plot(chart, "A line.", legend_below=True)
    exhibits.plot(chart, "A line.", legend_below=True)  # from the kept specification


def test_the_element_drawn_is_the_one_st_altair_chart_draws() -> None:
    app = AppTest.from_function(_both_ways).run()
    assert not app.exception
    shown = [element.proto for element in app.get("vega_lite_chart")]
    assert len(shown) == 3
    altair, *ours = shown
    for proto in ours:
        assert proto.spec == altair.spec
        assert [(d.name, d.data.data) for d in proto.datasets] == [
            (d.name, d.data.data) for d in altair.datasets
        ]
        assert (proto.theme, proto.alt, proto.use_container_width) == (
            altair.theme,
            altair.alt,
            altair.use_container_width,
        )
