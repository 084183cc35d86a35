"""The suppression audit: every metric by every dimension, and every page's tables, tiles and chart
data, show no statistic whose denominator is under the minimum, and no hidden cell can be worked out
as a total minus the shown cells of its line."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from metrics.formatting import SUPPRESSED
from metrics.query import Engine, Query
from metrics.warehouse import Warehouse

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = ("overview", "trends", "equity", "journeys", "drivers", "value", "reporting", "catalog")
MIN_N = 60  # high enough on the small sample that many cells of a breakdown fall under it
STATISTICS = ("value", "n", "ci_low", "ci_high", "mean")


def lone_hidden_cells(
    rows: Sequence[dict[str, Any]], dimensions: Sequence[str], fixed: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Return each hidden cell that is the only hidden one in a line (along one dimension, `fixed`
    columns held) with shown cells: total minus the shown cells would give it away."""
    found = []
    for dimension in dimensions:
        lines: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            lines[tuple(row[d] for d in (*fixed, *dimensions) if d != dimension)].append(row)
        for cells in lines.values():
            hidden = [c for c in cells if c["suppressed"]]
            if len(hidden) == 1 and len(hidden) < len(cells):
                found += hidden
    return found


def audit(result: pl.DataFrame, by: Sequence[str], minimum: int, what: str) -> None:
    """Check one result: shown cells have n at or over the minimum, hidden cells show nothing, and
    no line has a lone hidden cell."""
    rows = result.to_dicts()
    for row in rows:
        if row["suppressed"]:
            shown = {k: row[k] for k in STATISTICS if k in row and row[k] is not None}
            assert not shown, f"{what}: hidden cell {row} still shows {shown}"
        else:
            assert row["n"] is not None and row["n"] >= minimum, f"{what}: {row} is under {minimum}"
    lone = lone_hidden_cells(rows, by)
    assert not lone, f"{what}: {lone} could be worked out from a total minus the shown cells"


@pytest.fixture(scope="module")
def engine(sample_dir: Path) -> Engine:
    return Engine(Warehouse(sample_dir), min_n=MIN_N)


@pytest.mark.slow
def test_every_metric_by_every_dimension(engine: Engine) -> None:
    hidden = 0
    for name, metric in engine.catalog.metrics.items():
        minimum = engine.threshold(metric)
        audit(engine.run(Query.of(name)), (), minimum, name)
        for dimension in engine.dimensions(metric):
            result = engine.run(Query.of(name, by=[dimension]))
            audit(result, (dimension,), minimum, f"{name} by {dimension}")
            hidden += int(result["suppressed"].sum())
    assert hidden > 0, "the audit must meet hidden cells to prove anything"


@pytest.mark.parametrize("name", ["trust", "ease", "wait_median", "self_service_rate", "emotion"])
def test_every_dimension_by_quarter(engine: Engine, name: str) -> None:
    metric = engine.metric(name)
    hidden = 0
    for dimension in engine.dimensions(metric):
        if dimension in ("fiscal_quarter", "month", "fiscal_year"):
            continue
        by = ("fiscal_quarter", dimension)
        result = engine.run(Query.of(name, by=by))
        audit(result, by, engine.threshold(metric), f"{name} by {by}")
        hidden += int(result["suppressed"].sum())
    assert hidden > 0


def chart_data(app: AppTest) -> Iterator[tuple[str, pl.DataFrame]]:
    """Yield every dataset behind every chart on the page: what a person could read from the chart."""
    for chart in app.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            table = pa.ipc.open_stream(io.BytesIO(dataset.data.data)).read_all()
            yield dataset.name, pl.DataFrame(pl.from_arrow(table))


@pytest.fixture
def pages_at(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("CX_DATA_DIR", str(sample_dir))

    def open_page(page: str, minimum: int, **params: str | list[str]) -> AppTest:
        monkeypatch.setenv("CX_MIN_N", str(minimum))
        st.cache_resource.clear()
        st.cache_data.clear()
        app = AppTest.from_file(APP, default_timeout=120)
        for key, value in params.items():
            app.query_params[key] = value
        app.switch_page(f"app_pages/{page}.py")
        app.run()
        assert not app.exception, app.exception
        return app

    yield open_page
    st.cache_resource.clear()
    st.cache_data.clear()


# Columns that are not statistics of survey or contact cells: labels, assumptions and input counts.
_NOT_STATISTICS = {
    "Quarter", "Fiscal quarter", "Month", "Age band", "Stage", "Customer segment", "Journey stage", "Channel",
    "Self-service", "Cost per transaction", "Handle minutes", "Service", "Readiness", "Why",
    "Customers served", "Offered the survey", "Trust question", "Survey type", "Question", "Answer",
    "Beyond noise", "Input", "File", "Rows", "Rows rejected", "From", "To", "Last modified", "Problems", "Services",
    "Channels", "Group", "Measure", "Driver",
}  # fmt: skip
_DIGIT = re.compile(r"\d")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.slow
def test_a_minimum_over_every_denominator_hides_every_statistic(pages_at: Any, page: str) -> None:
    app = pages_at(page, 10**9)
    for tile in app.metric:
        assert tile.value in (SUPPRESSED, "unavailable"), (tile.label, tile.value)
    for frame in app.dataframe:
        table = frame.value
        for column in table.columns:
            if column in _NOT_STATISTICS:
                continue
            shown = [v for v in table[column] if isinstance(v, str) and _DIGIT.search(v)]
            shown += [v for v in table[column] if isinstance(v, int | float) and v == v]
            assert not shown, f"{page}: column {column!r} shows {shown[:3]}"
    for name, data in chart_data(app):
        for column in {*STATISTICS, "gap", "z", "transactions", "importance", "performance"} & set(
            data.columns
        ):
            assert data[column].is_null().all(), f"{page}: chart data {name} column {column} shows numbers"
    for text in (m.value for m in app.markdown):
        assert not re.search(r"\bn = \d", text), f"{page}: {text}"


SMALL_CELLS = {
    "trends": {"metric": "trust", "split": "language", "grain": "month"},
    "equity": {"metric": "ease", "by": "race_ethnicity", "within": "age_band", "value": "65+"},
    "journeys": {},
    "overview": {"service": "Vessel Registration"},
}


@pytest.mark.parametrize("page", list(SMALL_CELLS))
@pytest.mark.slow
def test_page_tables_and_charts_hold_no_small_or_derivable_cell(pages_at: Any, page: str) -> None:
    app = pages_at(page, MIN_N, **SMALL_CELLS[page])
    met_hidden = False
    for name, data in chart_data(app):
        if "suppressed" not in data.columns:
            continue
        met_hidden |= bool(data["suppressed"].any())
        dimensions = [
            c
            for c, kind in data.schema.items()
            if kind == pl.String and c not in ("label", "theme", "gap_status")
        ]
        rows = data.to_dicts()
        for row in rows:
            if not row["suppressed"]:
                assert row["n"] is None or row["n"] >= MIN_N, f"{page}: chart {name} shows {row}"
            else:
                assert all(row.get(k) is None for k in STATISTICS), f"{page}: chart {name} shows {row}"
        # Different measures of one group do not add up to a total: a measure is held, never a line.
        fixed = ["metric"] if "metric" in dimensions else []
        lone = lone_hidden_cells(rows, [d for d in dimensions if d not in fixed], fixed)
        assert not lone, f"{page}: chart {name}: {lone} could be worked out from a total"
    for frame in app.dataframe:
        table = frame.value
        if "n" not in table.columns:
            continue
        for n in table["n"]:
            assert n == SUPPRESSED or int(str(n).replace(",", "")) >= MIN_N, f"{page}: n {n}"
        # The table's leading columns name the cell (they never hold †); a row is hidden when its n is.
        labels = []
        for column in table.columns:
            if (table[column] == SUPPRESSED).any() or column == "n":
                break
            labels.append(column)
        rows = [{**row, "suppressed": row["n"] == SUPPRESSED} for row in table.to_dict("records")]
        met_hidden |= any(row["suppressed"] for row in rows)
        lone = lone_hidden_cells(rows, labels)
        assert not lone, f"{page}: table {list(table.columns)}: {lone} could be worked out from a total"
    if page in ("trends", "equity"):
        assert met_hidden, "these filters must produce hidden cells for the check to mean anything"


def test_the_audit_finds_a_lone_hidden_cell() -> None:
    rows = [
        {"age": "young", "q": "Q1", "suppressed": False},
        {"age": "old", "q": "Q1", "suppressed": True},
        {"age": "young", "q": "Q2", "suppressed": True},
        {"age": "old", "q": "Q2", "suppressed": True},
    ]
    # Q1/old is alone in its quarter; along age, old has two hidden cells, young one with one shown.
    assert lone_hidden_cells(rows, ["age", "q"]) == [rows[1], rows[2]]
