"""Small-cell suppression: primary cells under the minimum, complementary cells so none can be derived."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import EngineFactory

from metrics.query import Query
from metrics.suppression import hidden_rows


def ages(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"age_band": band, "trust": 5 if i % 2 else 2} for band, n in counts.items() for i in range(n)]


def test_a_cell_under_the_minimum_is_hidden_with_a_complement(make_engine: EngineFactory) -> None:
    engine = make_engine(min_n=10, responses=ages({"25-34": 15, "45-54": 12, "65+": 3}))
    rows = {r["age_band"]: r for r in engine.run(Query.of("trust", by=["age_band"])).to_dicts()}
    assert rows["65+"]["suppressed"] and rows["65+"]["value"] is None and rows["65+"]["n"] is None
    # 65+ alone would follow from the overall total minus the others: the smallest other goes too.
    assert rows["45-54"]["suppressed"] and rows["45-54"]["value"] is None
    assert rows["45-54"]["ci_low"] is None and rows["45-54"]["mean"] is None
    assert not rows["25-34"]["suppressed"] and rows["25-34"]["n"] == 15


def test_two_small_cells_need_no_complement(make_engine: EngineFactory) -> None:
    engine = make_engine(min_n=10, responses=ages({"25-34": 15, "45-54": 12, "55-64": 4, "65+": 3}))
    flags = engine.run(Query.of("trust", by=["age_band"]))["suppressed"].to_list()
    assert flags == [False, False, True, True]


def test_no_breakdown_hides_only_a_small_total(make_engine: EngineFactory) -> None:
    small = make_engine(min_n=10, responses=ages({"25-34": 9}))
    assert small.run(Query.of("trust"))["suppressed"].to_list() == [True]


def test_the_minimum_applies_to_each_metric_own_denominator(make_engine: EngineFactory) -> None:
    # 12 respondents, but only 4 answered the optional ease item: trust shows, ease hides.
    rows = [{"trust": 5, "ease": 4 if i < 4 else None} for i in range(12)]
    engine = make_engine(min_n=10, responses=rows)
    assert engine.run(Query.of("trust"))["suppressed"].to_list() == [False]
    assert engine.run(Query.of("ease"))["suppressed"].to_list() == [True]


def test_a_metric_may_raise_the_minimum_but_not_lower_it(make_engine: EngineFactory) -> None:
    from pathlib import Path

    folder = Path(__file__).parent / "fixtures" / "new_metric"  # digital_trust says min_n: 2
    engine = make_engine(min_n=10, catalog_dir=folder, responses=[{"trust": 5}] * 5)
    assert engine.threshold(engine.metric("digital_trust")) == 10
    assert engine.run(Query.of("digital_trust"))["suppressed"].to_list() == [True]


def test_complementary_suppression_in_two_dimensions() -> None:
    # Quarter x age: one small cell per quarter would be recoverable along both lines.
    cells = [
        {"q": "Q1", "age": "young", "n": 50},
        {"q": "Q1", "age": "old", "n": 3},
        {"q": "Q2", "age": "young", "n": 40},
        {"q": "Q2", "age": "old", "n": 30},
    ]
    hidden = hidden_rows(cells, ["q", "age"], 10)
    # Q1/old is primary. Along age (within Q1) Q1/young hides; along quarter (within old) Q2/old
    # hides; then Q2 has one hidden cell, so Q2/young hides too.
    assert hidden == {0, 1, 2, 3}


@pytest.mark.parametrize("min_n", [1, 5, 30])
def test_the_threshold_is_configurable(make_engine: EngineFactory, min_n: int) -> None:
    engine = make_engine(min_n=min_n, responses=ages({"25-34": 5}))
    assert engine.run(Query.of("trust"))["suppressed"].to_list() == [min_n > 5]


def test_a_statistic_over_no_rows_reads_no_data_not_hidden(make_engine: EngineFactory) -> None:
    from metrics.formatting import NO_DATA, SUPPRESSED, format_statistic

    engine = make_engine(min_n=10, responses=ages({"25-34": 15, "65+": 3}))
    (nothing,) = engine.run(Query.of("trust", where={"age_band": "18-24"})).to_dicts()
    assert (nothing["value"], nothing["n"], nothing["suppressed"]) == (None, 0, False)
    assert format_statistic(nothing["value"], nothing["suppressed"], "percent") == NO_DATA
    (small,) = engine.run(Query.of("trust", where={"age_band": "65+"})).to_dicts()
    assert (
        small["suppressed"] and format_statistic(small["value"], small["suppressed"], "percent") == SUPPRESSED
    )


def test_an_empty_cell_is_never_the_complement(make_engine: EngineFactory) -> None:
    # One hidden cell (3) beside a shown one (15) and an empty one (n = 0): the shown one is the only
    # possible complement; the empty cell says nothing and stays "no data".
    cells = [
        {"age_band": "25-34", "n": 15, "raw_n": 15},
        {"age_band": "55-64", "n": 0, "raw_n": 0},
        {"age_band": "65+", "n": 4, "raw_n": 3},
    ]
    assert hidden_rows(cells, ["age_band"], 10) == {0, 2}


def test_a_cell_shown_only_when_true_and_published_counts_reach_the_minimum() -> None:
    # True 9 published 11: hidden (the true count is under the minimum). True 11 published 9: hidden too.
    cells = [
        {"g": "a", "n": 11, "raw_n": 9},
        {"g": "b", "n": 9, "raw_n": 11},
        {"g": "c", "n": 30, "raw_n": 31},
    ]
    assert hidden_rows(cells, [], 10) == {0, 1}
