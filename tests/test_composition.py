"""The SQL the engine and the store compose: a metric's cube table, worked by hand on three rows."""

from __future__ import annotations

import duckdb
import pytest

from metrics import composition
from metrics.errors import CxError
from metrics.sqlfiles import SQL_DIR

ROWS = (
    "select * from (values ('x', 'p', 1, 10), ('x', 'q', 0, 20), ('y', 'p', 1, 30)) "
    "t(service, channel, value, record_key)"
)
COLUMNS = {"service": "VARCHAR", "channel": "VARCHAR", "value": "INTEGER", "record_key": "INTEGER"}
SUMS = ["positive", "answered", "score_total", "scored", "positive_key", "answered_key"]


def test_each_grain_is_read_from_the_rows_or_summed_from_the_narrowest_grain_covering_it() -> None:
    grains = [("service", "channel"), ("segment",), ("service",), ("channel", "segment"), ("channel",)]
    assert composition.summed_from(grains) == [None, None, 0, None, 0]


def test_a_cube_table_holds_every_grain_by_hand() -> None:
    grains = [("service", "channel"), ("service",), ("channel",)]
    sql = composition.cube_sql(ROWS, COLUMNS, "share", grains, SUMS)
    found = duckdb.sql(
        f"select cx_grain, service, channel, positive, answered, answered_key from ({sql}) order by all"
    ).fetchall()
    assert found == [
        (0, "x", "p", 1.0, 1.0, 10.0),
        (0, "x", "q", 0.0, 1.0, 20.0),
        (0, "y", "p", 1.0, 1.0, 30.0),
        (1, "x", None, 1.0, 2.0, 30.0),  # summed from grain 0
        (1, "y", None, 1.0, 1.0, 30.0),
        (2, None, "p", 2.0, 2.0, 40.0),
        (2, None, "q", 0.0, 1.0, 20.0),
    ]


def test_a_quantile_cube_keeps_each_value_in_every_grain() -> None:
    grains = [("service",), ("channel",)]
    sums = ["counted", "keyed"]
    sql = composition.cube_sql(ROWS, COLUMNS, "median", grains, sums)
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
        composition.cube_sql(ROWS, COLUMNS, "share", [("service",)], ["positive"])


def test_a_record_key_is_read_off_the_md5_digest_of_its_identity_by_hand() -> None:
    con = duckdb.connect()
    con.execute((SQL_DIR / "macros" / "statistics.sql").read_text(encoding="utf-8"))
    # md5('R000000001') = 6aa9f4c1...: 0x6aa9 = 6 * 4096 + 10 * 256 + 10 * 16 + 9 = 27305.
    assert con.execute("select md5('R000000001'), record_key_of('R000000001')").fetchone() == (
        "6aa9f4c199804849cb9ceebbaa24d661",
        27305,
    )
    # md5('') = d41d8cd9...: 0xd41d = 54301, the last key a row with no text could get.
    assert con.execute("select record_key_of('')").fetchone() == (54301,)


def test_rows_without_a_record_key_get_one_from_their_text() -> None:
    found = composition.record_key(
        {"service": "VARCHAR", "wait": "DOUBLE", "n": "HUGEINT", "at": "TIMESTAMP"}
    )
    # Numbers and timestamps are left out: engines type (and so write) them differently.
    assert found == "record_key_of(concat_ws('|', coalesce(cast(\"service\" as varchar), '')))"
    assert composition.record_key(COLUMNS) == "record_key"
