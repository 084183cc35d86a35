"""How the engine answers a page's many questions quickly without changing a number: side by side on
worker threads, each question computed once per engine, results read straight into polars."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import EngineFactory, batches, recorded_statements

from cx.bench import same
from metrics.analyses import drivers, equity, headline, kpis, overview
from metrics.analyses import gaps as gap_search
from metrics.dimensions import DIMENSIONS
from metrics.errors import QueryError
from metrics.query import Engine, Filters, Query
from metrics.sqlfiles import quote_identifier, seeds
from metrics.warehouse import Warehouse


def _engine(make_engine: EngineFactory, min_n: int = 1) -> Engine:
    responses = [
        {"trust": 5, "ease": 4, "service": "Passport Services", "age_band": "65+"},
        {"trust": 2, "ease": 5, "service": "Passport Services", "age_band": "35-44"},
        {"trust": 4, "ease": 1, "service": "Naturalization", "age_band": "65+"},
        {"trust": 4, "ease": 4, "service": "Naturalization", "submitted_at": datetime(2025, 2, 1)},
    ]
    return make_engine(min_n=min_n, responses=responses)


def test_run_many_answers_in_order_as_run_does(make_engine: EngineFactory) -> None:
    engine = _engine(make_engine)
    queries = [
        Query.of("trust", ["service"]),
        Query.of("ease"),
        Query.of("trust", ["fiscal_quarter"]),
        Query.of("ease", ["age_band"], {"service": "Naturalization"}),
    ]
    together = engine.run_many(queries)
    engine.forget_results()
    assert all(same(a, engine.run(q)) for a, q in zip(together, queries, strict=True))
    # Known answers: trust 4 or 5 in 1 of 2 Passport answers and both Naturalization ones; ease 4 or 5
    # in 3 of 4; the one Naturalization answer aged 65+ found it hard (1).
    assert dict(zip(together[0]["service"], together[0]["value"], strict=True)) == {
        "Passport Services": 0.5,
        "Naturalization": 1.0,
    }
    assert together[1].row(0, named=True)["value"] == 0.75
    assert together[3].filter(pl.col("age_band") == "65+")["value"].to_list() == [0.0]


def _read_together(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every question the engine answers alone fail, and return the list its statements are
    recorded in from now on."""

    def refuse(query: Query, fast: bool) -> pl.DataFrame:
        raise AssertionError(f"{query} was read alone")

    ran = recorded_statements(engine, monkeypatch)
    monkeypatch.setattr(engine, "_run", refuse)
    return ran


@pytest.mark.parametrize("kind", ["text", "another type"])
def test_questions_of_one_metric_under_one_filter_read_its_rows_once(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """One equity group within another under a page filter (no cube carries it): the overview's gaps
    ask it for every pair of equity dimensions. Read once for all, the answers equal each read alone:
    summed in one grouping tagged by part where every dimension is text, and one grouping per part
    where one is of another type (a metric file may give one so)."""
    pairs = [("age_band", "urbanicity"), ("language", "fiscal_quarter"), ("disability", "income_band"), ()]
    queries = [
        Query.of(metric, by, {"channel": "phone"}, "FY2025 Q1", "FY2026 Q4")
        for metric in ("trust", "wait_mean")
        for by in pairs
    ]
    together = Engine(Warehouse(sample_dir))
    assert [len(group) for group in together._shared_reads(queries)] == [4, 4]
    if kind == "another type":
        columns = together.columns
        monkeypatch.setattr(together, "columns", lambda metric: columns(metric) | {"urbanicity": "INTEGER"})
    statements = _read_together(together, monkeypatch)
    shared = together.run_many(queries)
    alone = Engine(Warehouse(sample_dir))
    for query, result in zip(queries, shared, strict=True):
        assert result.equals(alone.direct(query)), query
    assert shared[0].filter(pl.col("value").is_not_null()).height > 10  # not a set of empty answers
    # trust's four in one grouping tagged by part (cx_parts) or in one grouping each (union).
    [trust] = [sql for sql in statements if "trust >= 4" in sql]
    assert ("cx_parts" in trust) == (kind == "text") and ("union all by name" in trust) == (kind != "text")


@pytest.mark.parametrize("kind", ["text", "another type"])
def test_several_measures_under_one_filter_read_their_rows_in_one_statement_per_worker(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The overview's gap search under a page filter asks each of its measures' pairs of equity
    groups: the measures of one aggregate are dealt to the workers whole, each worker's read in one
    statement (each measure's rows once), and every answer equals its own read of the rows. A measure
    one of whose dimensions is of another type than text is read in a statement of its own."""
    import metrics.query

    monkeypatch.setattr(metrics.query, "WORKERS", 2)
    names = ("trust", "ease", "effectiveness", "emotion")
    pairs = [("age_band", "urbanicity"), ("language", "disability"), ("income_band",)]
    queries = [
        Query.of(name, by, {"channel": "phone"}, "FY2023 Q1", "FY2024 Q4") for name in names for by in pairs
    ]
    together = Engine(Warehouse(sample_dir))
    if kind == "another type":
        columns = together.columns
        monkeypatch.setattr(
            together,
            "columns",
            lambda metric: columns(metric) | ({"urbanicity": "INTEGER"} if metric.name == "ease" else {}),
        )
    statements = _read_together(together, monkeypatch)
    shared = together.run_many(queries)
    # Two statements, two measures each: each measure's rows read once (one `fine` apiece); or ease
    # alone and the three others in two.
    fines = sorted(sql.count("fine as materialized") for sql in statements)
    assert fines == ([2, 2] if kind == "text" else [1, 1, 2])
    if kind == "another type":
        [alone_read] = [sql for sql in statements if sql.count("fine as materialized") == 1 and "ease" in sql]
        assert "union all by name" in alone_read and "cx_parts" not in alone_read
    alone = Engine(Warehouse(sample_dir))
    for query, result in zip(queries, shared, strict=True):
        assert result.equals(alone.direct(query)), query
    assert all(r.filter(pl.col("value").is_not_null()).height > 2 for r in shared)  # not empty answers


def test_several_measures_over_time_are_asked_at_once_as_one_by_one(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What customers say draws its themes' lines together: one `run_many`, the same lines."""
    from metrics.analyses import trends

    engine = _engine(make_engine)
    asked = batches(engine, monkeypatch)
    together = trends.series_many(engine, ("trust", "ease"), Filters(), "fiscal_quarter")
    assert asked == [2]
    engine.forget_results()
    for (frame, ignored), name in zip(together, ("trust", "ease"), strict=True):
        alone, left = trends.series(engine, name, Filters(), "fiscal_quarter", None)
        assert same(frame, alone) and ignored == left
    # Known answers: FY2025 Q1 trust 5, 2, 4 (two of three 4 or 5), ease 4, 5, 1; FY2025 Q2 one 4 each.
    for frame, _ in together:
        assert dict(zip(frame["fiscal_quarter"], frame["value"], strict=True)) == pytest.approx(
            {"FY2025 Q1": 2 / 3, "FY2025 Q2": 1.0}
        )


def test_each_raises_the_first_error_and_keeps_working(make_engine: EngineFactory) -> None:
    engine = _engine(make_engine)
    with pytest.raises(QueryError, match="unknown metric 'trusst'"):
        engine.run_many([Query.of("trust"), Query.of("trusst")])
    assert engine.run_many([Query.of("trust"), Query.of("ease")])[0]["n"].to_list() == [4]


def test_questions_asked_ahead_are_answered_as_run_many_answers_them(make_engine: EngineFactory) -> None:
    engine = _engine(make_engine)
    first = [Query.of("trust", ["service"]), Query.of("ease", ["age_band"])]
    then = [Query.of("trust"), Query.of("ease", ["service"]), Query.of("trust", ["fiscal_quarter"])]
    asked, after = engine.ask(first), engine.ask(then)
    answers = asked.answers() + after.answers()
    engine.forget_results()
    assert all(same(a, b) for a, b in zip(answers, engine.run_many([*first, *then]), strict=True))
    assert dict(zip(answers[0]["service"], answers[0]["value"], strict=True)) == {
        "Passport Services": 0.5,
        "Naturalization": 1.0,
    }
    # A question that fails says so when its answers are asked for, and the others are kept.
    failing = engine.ask([Query.of("trusst"), Query.of("ease")])
    with pytest.raises(QueryError, match="unknown metric 'trusst'"):
        failing.answers()
    assert engine.run(Query.of("ease"))["n"].to_list() == [4]


def test_an_analysis_is_worked_out_once_while_its_results_are_remembered(make_engine: EngineFactory) -> None:
    engine = _engine(make_engine)
    worked: list[int] = []

    def analysis() -> int:
        worked.append(1)
        return len(worked)

    assert engine.remembered(("count",), analysis) == 1
    assert engine.remembered(("count",), analysis) == 1
    engine.min_n = 3  # another threshold is another analysis, as it is another result
    assert engine.remembered(("count",), analysis) == 2
    engine.min_n = 1
    assert engine.remembered(("count",), analysis) == 1
    engine.forget_results()
    assert engine.remembered(("count",), analysis) == 3
    # An engine confined to some services shares its twin's memory, not its analyses: they read
    # answers about every service.
    confined = engine.confined(frozenset({"Naturalization"}))
    assert confined.remembered(("count",), analysis) == 4
    assert engine.remembered(("count",), analysis) == 3


def test_nested_calls_do_not_wait_on_each_other(make_engine: EngineFactory) -> None:
    engine = _engine(make_engine)
    threads: set[str] = set()

    def inner(name: str) -> int:
        threads.add(threading.current_thread().name)
        return int(engine.run_many([Query.of(name), Query.of(name, ["service"])])[0]["n"][0])

    # Every worker busy with an item that itself asks for workers: they work through it themselves.
    assert engine.each(inner, ["trust", "ease", "trust", "ease", "trust"]) == [4, 4, 4, 4, 4]
    assert any(name.startswith("cx-query") for name in threads)


def test_results_are_remembered_per_threshold_and_forgotten_on_request(make_engine: EngineFactory) -> None:
    engine = _engine(make_engine)
    query = Query.of("trust", ["service"])
    first = engine.run(query)
    assert engine.run(query) is first
    engine.min_n = 3  # a different floor is a different result: 2 answers per service are hidden
    assert engine.run(query)["suppressed"].to_list() == [True, True]
    engine.min_n = 1
    assert engine.run(query) is first
    engine.forget_results()
    assert engine.run(query) is not first and same(engine.run(query), first)


def test_page_functions_give_the_same_numbers_side_by_side(make_engine: EngineFactory) -> None:
    engine = _engine(make_engine)
    filters = Filters((), "FY2025 Q1", "FY2025 Q2")
    tiles = kpis.tiles(engine, ("trust", "ease"), filters, "FY2025 Q2")
    assert [t.metric.name for t in tiles] == ["trust", "ease"]
    assert [t.current["value"] for t in tiles] == [1.0, 1.0]  # the one answer of FY2025 Q2
    assert tiles[0].previous is not None and tiles[0].previous["value"] == pytest.approx(2 / 3)
    both = equity.breakdowns(engine, ("trust", "ease"), "age_band", Filters())
    alone = [equity.breakdown(engine, name, "age_band", Filters()) for name in ("trust", "ease")]
    for together, single in zip(both, alone, strict=True):
        assert together.overall == single.overall and same(together.groups, single.groups)
    checklist = drivers.v2_checklist(engine, Filters())
    assert checklist["driver"].to_list() == [*drivers.DRIVERS, "other"]


def test_frame_reads_types_and_lists(make_engine: EngineFactory) -> None:
    engine = _engine(make_engine)
    read = engine.warehouse.frame(
        "select 'a' as word, 1.5::double as x, 2::bigint as n, true as ok, null::double as missing, [1, 2] as pair, "
        "$v as bound",
        {"v": "value"},
    )
    assert read.schema == pl.Schema(
        {
            "word": pl.String,
            "x": pl.Float64,
            "n": pl.Int64,
            "ok": pl.Boolean,
            "missing": pl.Float64,
            "pair": pl.List(pl.Int32),
            "bound": pl.String,
        }
    )
    assert read.row(0) == ("a", 1.5, 2, True, None, [1, 2], "value")
    # A struct has no counterpart in the direct read: the result comes through Arrow, typed alike.
    nested = engine.warehouse.frame("select {'k': 1} as rec, 2.5 as amount")
    assert nested.schema == pl.Schema({"rec": pl.Struct({"k": pl.Int32}), "amount": pl.Decimal(2, 1)})


def test_parts_finished_together_equal_each_finished_alone(make_engine: EngineFactory) -> None:
    """A statement answering many queries (a stack, a measure's breakdowns) is finished over its whole
    table: each part in the display order of its own breakdown, an unknown value and no value last
    as `_in_display_order` puts them, and small cells hidden as `suppress` hides
    them one part at a time."""
    engine = _engine(make_engine, min_n=10)
    metric = engine.metric("trust")
    members = [
        (Query.of("trust", ["age_band", "channel"]), metric, None),
        (Query.of("trust", ["channel", "age_band"]), metric, None),
        (Query.of("trust", ["channel"]), metric, None),
        (Query.of("trust"), metric, None),  # no rows and no breakdown: left to `run`
        (Query.of("trust", ["age_band"]), metric, None),  # no rows: an empty result
    ]
    ages = ["65+", "Not reported", "18-24", None, "Martian", "35-44"]
    channels = ["phone", "online", None, "phone", "in_person", "online"]
    rows = [
        {"cx_part": part, "age_band": a if by[0] == "age_band" or len(by) > 1 else None}
        | {"channel": c if "channel" in by else None}
        for part, by in ((0, ("age_band", "channel")), (1, ("channel", "age_band")), (2, ("channel",)))
        for a, c in zip(ages, channels, strict=True)
    ]
    # Part 1 has a cell under the minimum (n 4): it and its complement are hidden; the others show.
    ns = [*(40, 30, 20, 25, 50, 60), *(40, 30, 20, 4, 50, 60), *(40, 30, 20, 25, 50, 60)]
    table = pl.DataFrame(rows).with_columns(
        value=pl.Series([0.5 + i / 100 for i in range(len(rows))]),
        n=pl.Series(ns, dtype=pl.Int64),
        raw_n=pl.Series(ns, dtype=pl.Int64),
        ci_low=pl.lit(0.1),
        ci_high=pl.lit(0.9),
        mean=pl.lit(3.0),
    )
    _, together = engine._finished_parts(table, members)  # type: ignore[arg-type]
    assert together[3] is None
    parts = table.partition_by("cx_part", as_dict=True, include_key=False)
    for i, (query, _, _) in enumerate(members):
        if together[i] is None:
            continue
        alone = engine._finished(metric, query, parts.get((i,), table.clear().drop("cx_part")))
        assert together[i].equals(alone), query  # type: ignore[union-attr]
        assert together[i].schema == alone.schema  # type: ignore[union-attr]
    first = together[0]
    assert first is not None and first["age_band"].to_list() == [
        "18-24", "35-44", "65+", "Not reported", "Martian", None
    ]  # fmt: skip
    hidden = together[1]
    assert hidden is not None and 2 <= hidden["suppressed"].sum() < hidden.height
    assert together[4] is not None and together[4].is_empty()
    # A dimension with no order of its own: no value before an unknown "Not reported", whatever the
    # order the rows come in.
    from metrics.query import _in_display_order, _parts_in_display_order

    languages = pl.DataFrame({"cx_part": [0] * 4, "language": ["Not reported", "Spanish", None, "English"]})
    assert _parts_in_display_order(languages, [("language",)])["language"].to_list() == [
        "English", "Spanish", None, "Not reported"
    ] == _in_display_order(languages, ["language"])["language"].to_list()  # fmt: skip


def test_settling_keeps_what_lives_on_out_of_full_collections_and_frees_what_does_not() -> None:
    """A server settles once its data is open (`settle`): what is alive then is no longer walked by
    every full collection, and what was let go since an earlier settling (an engine replaced by a
    newer store's) is freed all the same."""
    import gc
    import weakref

    from metrics.query import settle

    class Node:
        me: object = None

    kept, dropped = Node(), Node()
    dropped.me = dropped  # a cycle: only the collector frees it
    gc.freeze()  # settled earlier, while it was still in use
    dropped_ref = weakref.ref(dropped)
    del dropped
    try:
        settle()
        assert dropped_ref() is None
        assert gc.get_freeze_count() > 0
        # What is alive at settling is out of the collector's generations.
        assert not any(o is kept for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())


def test_a_settled_process_exits_without_duckdb_reporting_leaks() -> None:
    """What settling froze is let go at exit: frozen, DuckDB's type objects outlive the interpreter's
    last collection and its bindings print "leaked 27 instances" into the server's log."""
    import subprocess
    import sys

    program = (
        "import duckdb\n"
        "from metrics.query import settle\n"
        "types = duckdb.connect().sql(\"select 1 as a, 'x' as b\").types\n"
        "settle()\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert "leaked" not in done.stderr, done.stderr


def test_the_values_a_metric_holds_are_read_from_a_cube_over_the_same_rows(sample_dir: Path) -> None:
    """A quantile's cube keeps a row per group and value (its finer groupings are left out of the
    store), so which values of a dimension the median wait's and the 90th percentile's rows hold (a
    tile's state under a page filter) is asked of the mean wait's cube, over the same rows: what it
    finds equals each one's own rows' groups. Other measures ask their own cubes."""
    engine = Engine.open(sample_dir, store_dir=sample_dir / ".cx-store")
    assert engine.store is not None
    for name in ("wait_median", "wait_p90"):
        for dimension in engine.dimensions(engine.metric(name)):
            if DIMENSIONS[dimension].kind == "time":
                continue
            assert [q.metric for q in engine.values_asked(dimension, name)] == ["wait_mean"], dimension
            rows = engine.direct(Query.of(name, by=[dimension]))
            own = {str(v) for v in rows[dimension]} - {"None"}
            assert own and set(engine.values(dimension, name)) == own, (name, dimension)
    for name in ("wait_mean", "trust"):
        assert [q.metric for q in engine.values_asked("service", name)] == [name]


@pytest.mark.parametrize("where", [(), (("service", ("Passport Services",)),)], ids=["all", "one service"])
def test_the_overviews_parts_read_every_first_question_from_the_batch_asked_ahead(
    sample_dir: Path, where: tuple[tuple[str, tuple[str, ...]], ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overview asks its parts' questions before they draw (overview.ask_ahead), so that measures
    of one aggregate share statements across parts and the workers wait for no part, and works out the
    gap search's comparisons meanwhile. The answer, the tiles and the gap search then run no
    statement of their own, and the gap search does not compare again; what changed this quarter
    runs only what its first answers lead to (a group whose channels changed, read like for like).
    Every part shows what it shows when each asks its own."""
    engine = Engine.open(sample_dir, store_dir=sample_dir / ".cx-store")
    filters = Filters(where, "FY2025 Q1", "FY2026 Q4")
    quarter = "FY2026 Q4"
    measures = kpis.headline_measures(engine, filters, quarter)
    tiled = (*kpis.OVERVIEW_COUNTS, *measures, *kpis.kept_apart(engine, measures))
    parts = {
        "answer": lambda: headline.answer(engine, filters, quarter, measures[0]),
        "tiles": lambda: kpis.tiles(engine, tiled, filters, quarter),
        "moves": lambda: kpis.largest_moves(
            engine, overview.moved(measures), overview.MOVED_BY, filters, quarter
        ),
        "gaps": lambda: gap_search.gaps(engine, filters),
    }
    # A seed (the channels' names) is a table of the code's, not a question.
    seed_reads = {f"select * from {quote_identifier(seed)}" for seed in seeds()}
    read = engine.warehouse.frame

    def drawn() -> tuple[dict[str, str], dict[str, int]]:
        """Each part's numbers, and how many statements each ran."""
        statements: list[str] = []

        def reading(sql: str, params: dict[str, object] | None = None) -> pl.DataFrame:
            statements.append(sql)
            return read(sql, params)

        shown, ran = {}, {}
        engine.warehouse.frame = reading  # type: ignore[method-assign]
        try:
            for name, part in parts.items():
                before = len(statements)
                shown[name] = repr(part())
                ran[name] = len([s for s in statements[before:] if s not in seed_reads])
        finally:
            engine.warehouse.frame = read  # type: ignore[method-assign]
        return shown, ran

    engine.forget_results()
    alone, _ = drawn()
    engine.forget_results()
    engine.run_many(
        kpis.move_questions(engine, overview.moved(measures), overview.MOVED_BY, filters, quarter)
    )
    _, led_to = drawn()
    engine.forget_results()
    overview.ask_ahead(engine, filters, quarter)
    # The gap search's comparisons were worked out ahead: its part only lists them.
    monkeypatch.setattr(
        gap_search, "_compared", lambda *args: pytest.fail("the gap search was worked out again")
    )
    ahead, ran = drawn()
    assert ran == {"answer": 0, "tiles": 0, "moves": led_to["moves"], "gaps": 0}
    assert ahead == alone
