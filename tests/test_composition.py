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


@pytest.mark.parametrize("plan", ["hubs", "roots", "copies"])
def test_a_cube_table_holds_every_grain_by_hand(plan: composition.Plan) -> None:
    grains = [("service", "channel"), ("service",), ("channel",)]
    sql = composition.cube_sql(ROWS, COLUMNS, "share", grains, SUMS, plan)
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


def test_grains_read_from_the_rows_share_a_hub_one_dimension_wider_than_each() -> None:
    grains = [("q", "a", "b"), ("q", "a", "c"), ("q", "b", "c"), ("q", "a", "d"), ("q", "e", "f", "g")]
    # q a b c is one wider than each of the first three: one grouping reads all three. q a b d would
    # be one wider than the fourth too, but the first already has its hub: the fourth is read alone,
    # and so is the fifth, which shares no hub one dimension wider with any.
    assert composition._hubs(grains, [0, 1, 2, 3, 4]) == [[0, 1, 2], [3], [4]]
    assert composition._hubs(grains, [3, 4]) == [[3], [4]]


def test_a_cube_table_of_grains_read_through_a_hub_holds_every_grain_by_hand() -> None:
    rows = (
        "select * from (values ('x', 'p', 'a', 1, 10), ('x', 'q', 'a', 0, 20), ('y', 'p', 'b', 1, 30), "
        "('x', 'p', 'b', 1, 40)) t(service, channel, segment, value, record_key)"
    )
    columns = {**COLUMNS, "segment": "VARCHAR"}
    grains = [("service", "channel"), ("service", "segment"), ("channel", "segment"), ("service",)]
    # The three pairs are read as one grouping of service, channel and segment, and summed from it.
    assert composition._hubs(grains, [0, 1, 2]) == [[0, 1, 2]]
    sql = composition.cube_sql(rows, columns, "share", grains, SUMS)
    found = duckdb.sql(
        f"select cx_grain, service, channel, segment, positive, answered, answered_key from ({sql}) order by all"
    ).fetchall()
    assert found == [
        (0, "x", "p", None, 2.0, 2.0, 50.0),
        (0, "x", "q", None, 0.0, 1.0, 20.0),
        (0, "y", "p", None, 1.0, 1.0, 30.0),
        (1, "x", None, "a", 1.0, 2.0, 30.0),
        (1, "x", None, "b", 1.0, 1.0, 40.0),
        (1, "y", None, "b", 1.0, 1.0, 30.0),
        (2, None, "p", "a", 1.0, 1.0, 10.0),
        (2, None, "p", "b", 2.0, 2.0, 70.0),
        (2, None, "q", "a", 0.0, 1.0, 20.0),
        (3, "x", None, None, 2.0, 3.0, 70.0),
        (3, "y", None, None, 1.0, 1.0, 30.0),
    ]
    # Without hubs (a build short of memory), each pair is read from the rows; or each row is copied
    # once per grain, the dimensions outside it blanked (few rows): the same rows.
    alone = composition.cube_sql(rows, columns, "share", grains, SUMS, "roots")
    assert 'grouping sets (("service", "channel"), ("service", "segment"), ("channel", "segment"))' in alone
    copies = composition.cube_sql(rows, columns, "share", grains, SUMS, "copies")
    assert "grouping sets" not in copies and "cross join cx_grains" in copies
    for sql in (alone, copies):
        assert (
            duckdb.sql(
                f"select cx_grain, service, channel, segment, positive, answered, answered_key from ({sql}) "
                "order by all"
            ).fetchall()
            == found
        )


@pytest.mark.parametrize("plan", ["hubs", "copies"])
def test_a_quantile_cube_keeps_each_value_in_every_grain(plan: composition.Plan) -> None:
    grains = [("service",), ("channel",)]
    sums = ["counted", "keyed"]
    sql = composition.cube_sql(ROWS, COLUMNS, "median", grains, sums, plan)
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


# A quantile cube's histogram, as a read sums it: per group (cell), each value with its count.
# Group "a": 1, 2, 2, 3, 10. Group "b": 7 three times (one value only). The group of no service
# (cell null): 4 and 8. Group "c": 1 to 100 once each. Group "d": 0 once, 1000 four times.
HISTOGRAM = (
    "select service, service as cell, value, counted, 0.0 as keyed from (values "
    "('a', 1.0, 1), ('a', 2.0, 2), ('a', 3.0, 1), ('a', 10.0, 1), ('b', 7.0, 3), (null, 4.0, 1), "
    "(null, 8.0, 1), ('d', 0.0, 1), ('d', 1000.0, 4)) t(service, value, counted) "
    "union all select 'c', 'c', cast(v as double), 1, 0.0 from range(1, 101) r(v)"
)


@pytest.mark.parametrize(
    ("quantile", "expected"),
    [
        # The median at position (n - 1) / 2 of the sorted values, between the two values around it:
        # "a" rank 3 of 5 is 2; "b" 7; no service 4 + 0.5 * (8 - 4) = 6; "c" 50 + 0.5 * (51 - 50);
        # "d" rank 3 of 5 is 1000. Only "c" has the n its interval needs: ranks floor(50 - 9.8) = 40
        # and ceil(50 + 9.8) + 1 = 61 (spread 1.96 * sqrt(100 * 0.25) = 9.8), values 40 and 61.
        (0.5, {"a": (2.0, None, None), "b": (7.0, None, None), None: (6.0, None, None),
               "c": (50.5, 40.0, 61.0), "d": (1000.0, None, None)}),
        # The 90th percentile: "a" at position 3.6, 3 + 0.6 * (10 - 3) = 7.2; no service 4 + 0.9 * 4;
        # "c" at 89.1, 90 + 0.1 * 1; its interval ranks floor(90 - 5.88) = 84 and ceil(95.88) + 1 = 97.
        (0.9, {"a": (7.2, None, None), "b": (7.0, None, None), None: (7.6, None, None),
               "c": (90.1, 84.0, 97.0), "d": (1000.0, None, None)}),
    ],
)  # fmt: skip
def test_a_quantile_is_read_off_its_histogram_by_hand(
    quantile: float, expected: dict[str | None, tuple[float, float | None, float | None]]
) -> None:
    con = duckdb.connect()
    con.execute((SQL_DIR / "macros" / "statistics.sql").read_text(encoding="utf-8"))
    sql = f"with totals as ({HISTOGRAM})\nselect * from (\n{composition.finish('median', from_cube=True)}\n)"
    found = con.execute(sql, {"quantile": quantile, "exact": True}).fetchall()
    columns = [d[0] for d in con.description or []]
    assert columns == ["service", "value", "n", "ci_low", "ci_high", "mean", "raw_n"]
    got = {row[0]: (round(row[1], 9), row[3], row[4]) for row in found}
    assert got == expected
    assert {row[0]: row[2] for row in found} == {"a": 5, "b": 3, None: 2, "c": 100, "d": 5}


def test_a_quantile_cubes_running_counts_are_counted_by_hand_and_read_as_its_histogram() -> None:
    """The store keeps each histogram row's running count in its cell for a quantile's short grains
    (composition.running_cube): counted here by hand, with none for the rows of a grain left out. Read
    back by whole cells (composition.cells_over), every group's quantile and interval is the one read
    off the histogram itself."""
    con = duckdb.connect()
    con.execute((SQL_DIR / "macros" / "statistics.sql").read_text(encoding="utf-8"))
    # Grain 0: by service, the histogram above (each row's record keys summing to ten per row).
    # Grain 1: everyone, each value once with all its rows.
    con.execute(
        f"create table cube as select 0 as cx_grain, service, value, counted, counted * 10.0 as keyed "
        f"from ({HISTOGRAM}) union all select 1, null, value, sum(counted), sum(counted) * 10.0 "
        f"from ({HISTOGRAM}) group by value"
    )
    con.execute(f"create table kept as {composition.running_cube('cube', ['service'], [0])}")
    found = con.execute(
        "select service, value, reached, counted_in_group, key_in_group from kept "
        "where cx_grain = 0 and (service = 'a' or service is null) order by service nulls first, value"
    ).fetchall()
    # "a": 1, 2, 2, 3, 10 (five rows); no service: 4 and 8 (two rows), a group of its own.
    assert found == [
        (None, 4.0, 1, 2, 20.0),
        (None, 8.0, 2, 2, 20.0),
        ("a", 1.0, 1, 5, 50.0),
        ("a", 2.0, 3, 5, 50.0),
        ("a", 3.0, 4, 5, 50.0),
        ("a", 10.0, 5, 5, 50.0),
    ]
    left_out = con.execute(
        "select count(*), count(reached), count(counted_in_group), count(key_in_group) from kept "
        "where cx_grain = 1"
    ).fetchone()
    assert left_out == (102, 0, 0, 0)  # the values 0, 1 to 100 and 1000, none counted
    for quantile in (0.5, 0.9):
        params = {"quantile": quantile, "exact": True}
        cells = composition.cells_over("kept", ["service"], [], 0)
        read = con.execute(
            f"with cumulative as ({cells})\nselect * from ({composition.histogram()})", params
        ).fetchall()
        summed = con.execute(
            f"with totals as ({HISTOGRAM})\nselect * from (\n{composition.finish('median', from_cube=True)}\n)",
            params,
        ).fetchall()
        assert len(read) == 5 and sorted(read, key=str) == sorted(summed, key=str)


def test_a_totals_template_that_is_not_one_select_grouped_by_all_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        composition, "totals", lambda aggregate: "select sum(value) as positive from metric_input"
    )
    with pytest.raises(CxError, match=r"sql/aggregates/totals/share\.sql: .*group by all"):
        composition.cube_sql(ROWS, COLUMNS, "share", [("service",)], ["positive"])


def test_a_totals_template_that_reads_other_than_metric_input_is_named_where_rows_are_copied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        composition,
        "totals",
        lambda aggregate: (
            "select\n    columns(* exclude (value)),\n    sum(value) as positive\nfrom metric_rows\ngroup by all"
        ),
    )
    with pytest.raises(CxError, match=r"sql/aggregates/totals/share\.sql: .*reads `from metric_input` once"):
        composition.cube_sql(ROWS, COLUMNS, "share", [("service",)], ["positive"], "copies")


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


# Five rows of one table, and a sixth whose kind is unknown: in neither metric.
TABLE = (
    "create table t as select * from (values ('x', 'a', 1, 10), ('x', 'b', 0, 20), ('y', 'a', 0, 30), "
    "('y', 'b', 1, 40), ('y', 'c', 1, 50), ('y', null, 1, 60)) v(service, kind, x, record_key)"
)
TABLE_COLUMNS = {"service": "VARCHAR", "kind": "VARCHAR", "x": "INTEGER", "record_key": "INTEGER"}
KIND_A = "select *, x as value from t where kind = 'a'"
NOT_A = "select *, 1 - x as value from t where kind <> 'a'"


@pytest.mark.parametrize("plan", ["hubs", "copies"])
def test_metrics_of_one_table_are_summed_together_each_as_alone_by_hand(plan: composition.Plan) -> None:
    con = duckdb.connect()
    con.execute(TABLE)
    shapes = [composition.plain(KIND_A), composition.plain(NOT_A)]
    assert None not in shapes
    grains = [("service", "kind"), ("service",)]
    sql, sums, counts = composition.shared_cube_sql(
        [s for s in shapes if s], TABLE_COLUMNS, "share", grains, plan
    )
    assert sums == [[f"{s}_cx{i}" for s in SUMS] for i in range(2)] and counts == ["cx_rows0", "cx_rows1"]
    con.execute(f"create table shared as {sql}")

    def each(i: int) -> list[tuple[object, ...]]:
        return con.execute(
            f"select cx_grain, service, kind, positive_cx{i}, answered_cx{i}, positive_key_cx{i} "
            f"from shared where cx_rows{i} > 0 order by all"
        ).fetchall()

    # Kind a: (x, 1, key 10) and (y, 0, key 30).
    assert each(0) == [
        (0, "x", "a", 1.0, 1.0, 10.0),
        (0, "y", "a", 0.0, 1.0, 0.0),
        (1, "x", None, 1.0, 1.0, 10.0),  # summed from grain 0
        (1, "y", None, 0.0, 1.0, 0.0),
    ]
    # Not a, value 1 - x: (x, b, 1, key 20), (y, b, 0, key 40), (y, c, 0, key 50); the row of no kind
    # is in neither (its condition is null), nor is any group of the other metric alone.
    assert each(1) == [
        (0, "x", "b", 1.0, 1.0, 20.0),
        (0, "y", "b", 0.0, 1.0, 0.0),
        (0, "y", "c", 0.0, 1.0, 0.0),
        (1, "x", None, 1.0, 1.0, 20.0),
        (1, "y", None, 0.0, 2.0, 0.0),
    ]
    for i, metric in enumerate([KIND_A, NOT_A]):
        columns = {**TABLE_COLUMNS, "value": "INTEGER"}
        alone = composition.cube_sql(metric, columns, "share", grains, SUMS)
        keys = "cx_grain, service, kind"
        own = ", ".join(f"{s}_cx{i}" for s in SUMS)
        assert (
            con.execute(
                f"select {keys}, {', '.join(SUMS)} from ({alone}) except all "
                f"select {keys}, {own} from shared where cx_rows{i} > 0"
            ).fetchall()
            == []
        )
        assert len(con.execute(alone).fetchall()) == len(each(i))


def test_a_plain_metric_is_one_tables_rows_with_columns_added() -> None:
    shape = composition.plain(
        "-- label: Trust\nselect *, case when trust >= 4 then 1 else 0 end as value, trust as score\n"
        "from stg_responses where trust_scale = 'five_point' and trust is not null"
    )
    assert shape == composition.Plain(
        "stg_responses",
        "trust_scale = 'five_point' AND NOT trust IS NULL",
        (("value", "CASE WHEN trust >= 4 THEN 1 ELSE 0 END"), ("score", "trust")),
    )
    assert composition.plain("select *, 1 as value from t") == composition.Plain(
        "t", "true", (("value", "1"),)
    )


@pytest.mark.parametrize(
    "sql",
    [
        "select *, x as value from t join u using (id)",  # a join
        "with r as (select * from t) select *, x as value from r",  # a CTE
        "select *, x as value from (select * from t)",  # a subquery
        "select *, x as value from t where id in (select id from u)",  # a subquery in the condition
        "select *, rank() over (order by x) as value from t",  # a window
        "select *, max(x) as value from t group by all",  # an aggregate
        "select distinct *, x as value from t",
        "select * exclude (x), x as value from t",
        "select x as value, * from t",  # the rows' own columns not first
        "select *, x as value, value * 2 as score from t",  # an added column read by another
        "select *, x as value from t where value > 0",  # ... or by the condition
        "select *, x as value from t as r",  # a table named otherwise
        "select *, x as value from t union all select *, x as value from u",
        "select *, x from t",  # a column added unnamed
        "select *, x as value from t limit 10",
    ],
)
def test_rows_of_any_other_shape_are_not_plain(sql: str) -> None:
    assert composition.plain(sql) is None
