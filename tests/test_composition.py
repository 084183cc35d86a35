"""The SQL the engine and the store compose: a metric's cube table, worked by hand on three rows."""

from __future__ import annotations

import duckdb
import pytest

from metrics import composition
from metrics.errors import CxError

ROWS = "select * from (values ('x', 'p', 1), ('x', 'q', 0), ('y', 'p', 1)) t(service, channel, value)"
SUMS = ["positive", "answered", "score_total", "scored", "positive_key", "answered_key"]


def test_each_grain_is_read_from_the_rows_or_summed_from_the_narrowest_grain_covering_it() -> None:
    grains = [("service", "channel"), ("segment",), ("service",), ("channel", "segment"), ("channel",)]
    assert composition.summed_from(grains) == [None, None, 0, None, 0]


def test_a_cube_table_holds_every_grain_by_hand() -> None:
    grains = [("service", "channel"), ("service",), ("channel",)]
    sql = composition.cube_sql(ROWS, ["service", "channel", "value"], "share", grains, SUMS)
    found = duckdb.sql(
        f"select cx_grain, service, channel, positive, answered from ({sql}) order by all"
    ).fetchall()
    assert found == [
        (0, "x", "p", 1.0, 1.0),
        (0, "x", "q", 0.0, 1.0),
        (0, "y", "p", 1.0, 1.0),
        (1, "x", None, 1.0, 2.0),  # summed from grain 0
        (1, "y", None, 1.0, 1.0),
        (2, None, "p", 2.0, 2.0),
        (2, None, "q", 0.0, 1.0),
    ]


def test_a_quantile_cube_keeps_each_value_in_every_grain() -> None:
    grains = [("service",), ("channel",)]
    sums = ["counted", "keyed"]
    sql = composition.cube_sql(ROWS, ["service", "channel", "value"], "median", grains, sums)
    found = duckdb.sql(
        f"select cx_grain, service, channel, value, counted from ({sql}) order by all"
    ).fetchall()
    assert found == [
        (0, "x", None, 0.0, 1),
        (0, "x", None, 1.0, 1),
        (0, "y", None, 1.0, 1),
        (1, None, "p", 1.0, 2),
        (1, None, "q", 0.0, 1),
    ]


def test_a_totals_template_that_is_not_one_select_grouped_by_all_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        composition, "totals", lambda aggregate: "select sum(value) as positive from metric_input"
    )
    with pytest.raises(CxError, match=r"sql/aggregates/totals/share\.sql: .*group by all"):
        composition.cube_sql(ROWS, ["service", "value"], "share", [("service",)], ["positive"])
