"""The metric catalog: every metric file has a valid header, runs, and breaks down by every dimension
it carries; bad files are named with their problem; a new file is a new metric with no Python edit."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from metrics.catalog import METRICS_DIR, load_catalog, parse_metric
from metrics.dimensions import DIMENSIONS, EQUITY_DIMENSIONS
from metrics.query import RESULT_COLUMNS, Engine, Query
from metrics.warehouse import Warehouse

FIXTURES = Path(__file__).parent / "fixtures"
METRIC_FILES = sorted(METRICS_DIR.glob("*.sql"))
# Metrics whose rows come from a per-quarter input (collections) rather than from people.
QUARTERLY = {"response_rate", "offer_rate"}


def test_the_catalog_ships_the_a11_measures() -> None:
    names = set(load_catalog().metrics)
    a11 = {
        "trust",
        "satisfaction",
        "effectiveness",
        "ease",
        "efficiency",
        "transparency",
        "employee",
        "emotion",
    }
    operations = {"wait_median", "wait_p90", "service_level", "abandonment_rate", "first_contact_resolution"}
    volume = {"responses", "response_rate", "self_service_rate"}
    drivers = {
        f"{side}_{d}" for side in ("went_well", "could_improve") for d in ("ease", "effectiveness", "other")
    }
    assert a11 | operations | volume | drivers <= names


@pytest.mark.parametrize("path", METRIC_FILES, ids=[p.stem for p in METRIC_FILES])
def test_every_metric_file(path: Path, sample_engine: Engine) -> None:
    metric, problems = parse_metric(path)
    assert problems == [] and metric is not None
    assert metric.name == path.stem
    assert not [p for p in sample_engine.check_metrics() if p.source.endswith(path.name)]

    result = sample_engine.run(Query.of(metric.name, by=["fiscal_quarter"]))
    extra = ["mean"] if "mean" in result.columns else []
    assert result.columns == ["fiscal_quarter", *RESULT_COLUMNS, *extra]
    if metric.theme == "Drivers" or metric.name == "trust_thumbs":
        assert 8 <= result.height < 16, "v2 questions start when services switch to v2"
    elif metric.name == "ease_after_contact":
        assert 4 <= result.height < 16, "assisted channels, where contacts are, stop asking ease at v2"
    else:
        assert result.height == 16, "the sample covers FY2023 Q1 to FY2026 Q4"
    shown = result.filter(~result["suppressed"])
    assert shown.height > 0
    for row in shown.iter_rows(named=True):
        assert row["n"] >= sample_engine.threshold(metric)
        assert not math.isnan(row["value"])
        if metric.format == "percent":
            assert 0 <= row["value"] <= 1
        if metric.format == "duration":
            assert row["value"] >= 0
        if row["ci_low"] is not None:
            assert row["ci_low"] <= row["value"] + 1e-9 <= row["ci_high"] + 2e-9
        if row.get("mean") is not None:
            assert 1 <= row["mean"] <= 5


@pytest.mark.parametrize("path", METRIC_FILES, ids=[p.stem for p in METRIC_FILES])
def test_every_metric_breaks_down_by_every_dimension_it_carries(
    path: Path, exact_sample_engine: Engine
) -> None:
    # True counts: published counts are perturbed cell by cell, so only these add up exactly.
    sample_engine = exact_sample_engine
    metric = sample_engine.metric(path.stem)
    dimensions = sample_engine.dimensions(metric)
    expected = {"fiscal_quarter", "fiscal_year", "service", "channel"}
    if metric.name not in QUARTERLY:
        expected |= {"month", "segment", "journey_stage", *EQUITY_DIMENSIONS}
    assert expected <= set(dimensions)
    total = sample_engine.run(Query.of(metric.name, start="FY2023Q1", end="FY2026Q4"))
    for dimension in dimensions:
        result = sample_engine.run(Query.of(metric.name, by=[dimension]))
        assert result.columns[0] == dimension
        assert result[dimension].null_count() == 0 or dimension == "wait_band"
        if metric.aggregate in ("count", "share", "ratio") and not result["suppressed"].any():
            # The groups of a breakdown add up to the total.
            assert result["n"].sum() == total["n"][0]


def test_bad_metric_files_are_each_named_with_every_problem() -> None:
    catalog = load_catalog(FIXTURES / "bad_metrics")
    folder = "tests/fixtures/bad_metrics"
    assert [str(p) for p in catalog.problems] == [
        f"{folder}/asks_itself.sql: header key 'asks': value 'asks_itself' is this metric: name the item it "
        "counts some answers to",
        f"{folder}/bad_compares.sql: header key 'compares': value 'chanel' is not a dimension ("
        + ", ".join(DIMENSIONS)
        + ")",
        f"{folder}/bad_values.sql: header key 'format': value 'percentage' is not one of percent, number, integer, "
        "duration",
        f"{folder}/bad_values.sql: header key 'direction': value 'up' is not one of higher_is_better, "
        "lower_is_better, neutral",
        f"{folder}/bad_values.sql: header key 'min_n': value 'ten' is not a whole number",
        f"{folder}/unknown_key.sql: line 1: unknown header key 'lable'; known keys: label, description, unit, "
        "format, direction, theme, owner, aggregate, target, min_n, compares, asks",
        f"{folder}/unknown_key.sql: missing header key 'label'",
        # Checked once every file is read: the item it names is no metric.
        f"{folder}/bad_asks.sql: header key 'asks': value 'trusst' is not a metric of this catalog (no "
        "trusst.sql beside it, or that file is left out)",
    ]
    assert sorted(catalog.metrics) == [
        "answered_contacts",
        "asks_contacts",
        "broken_sql",
        "good_metric",
        "no_value_column",
    ]


def test_metric_sql_problems_are_named_and_the_rest_keep_working(tmp_path: Path) -> None:
    from conftest import write_inputs

    engine = Engine(
        Warehouse(write_inputs(tmp_path, responses=[{}] * 3)),
        load_catalog(FIXTURES / "bad_metrics"),
        1,
        exact=True,
    )
    problems = [
        str(p) for p in engine.check_metrics() if "bad_metrics/" in p.source and "header" not in p.message
    ]
    assert problems[0].startswith(
        'tests/fixtures/bad_metrics/broken_sql.sql: SQL does not run: Binder Error: Referenced column "trusst" not found'
    )
    assert problems[1:] == [
        "tests/fixtures/bad_metrics/no_value_column.sql: aggregate 'share' needs a column 'value' in its rows"
    ]
    # The item a metric counts some answers of must be a survey item: a count of contacts is none.
    assert [str(p) for p in engine.check_metrics() if "'asks'" in p.message and "contacts" in p.source] == [
        "tests/fixtures/bad_metrics/asks_contacts.sql: header key 'asks': value 'answered_contacts' is not a "
        "survey item: it reads contacts, not the survey responses alone"
    ]
    assert engine.run(Query.of("good_metric")).row(0, named=True)["value"] == 3


def test_an_analyst_adds_a_metric_with_one_sql_file(sample_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    for path in [*METRIC_FILES[:1], *(FIXTURES / "new_metric").glob("*.sql")]:
        (folder / path.name).write_text(path.read_text())
    engine = Engine(Warehouse(sample_dir), load_catalog(folder), exact=True)
    assert {"digital_trust", "mean_ease_score"} <= set(engine.catalog.metrics)
    assert engine.check_metrics() == []
    for dimension in DIMENSIONS:
        if dimension in engine.dimensions(engine.metric("digital_trust")):
            assert engine.run(Query.of("digital_trust", by=[dimension])).height > 0
    mean = engine.run(Query.of("mean_ease_score", by=["fiscal_quarter"])).row(0, named=True)
    assert 1 <= mean["ci_low"] < mean["value"] < mean["ci_high"] <= 5


def test_mean_aggregate_known_answer(tmp_path: Path) -> None:
    from conftest import write_inputs

    # Ease answers 1, 2, 3, 4, 5 (+ a blank): mean 3, sd sqrt(2.5) = 1.581139, half-width
    # 1.959964 * 1.581139 / sqrt(5) = 1.385904.
    folder = write_inputs(tmp_path, responses=[{"ease": a} for a in (1, 2, 3, 4, 5, None)])
    engine = Engine(Warehouse(folder), load_catalog(FIXTURES / "new_metric"), 1, exact=True)
    row = engine.run(Query.of("mean_ease_score")).row(0, named=True)
    assert (row["value"], row["n"]) == (pytest.approx(3.0), 5)
    assert row["ci_low"] == pytest.approx(3 - 1.385904, abs=1e-6)
    assert row["ci_high"] == pytest.approx(3 + 1.385904, abs=1e-6)
