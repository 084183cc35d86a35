"""The fast path: the store's cubes give exactly what the metric rows give, small cells hidden alike;
the store follows its inputs; the benchmark runs at a small size and finds the two paths agree."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from conftest import EngineFactory, catalog_of, recorded_statements, write_inputs

from cx.bench import agreement_queries, same
from metrics import store as store_module
from metrics.catalog import METRICS_DIR, Catalog, load_catalog
from metrics.errors import CxError, QueryError
from metrics.interim import interim
from metrics.query import Engine, Filters, Query
from metrics.store import store_path
from metrics.storefile import MetricColumns
from metrics.warehouse import Warehouse

# Each builds a store from the sample: run by `make test`, left out of `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fast_engine(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An engine over the small sample whose store keeps every cube, however short its input."""
    engine = Engine(Warehouse(sample_dir, sealed=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "MAX_CUBE_SHARE", 1.0)
        patch.setattr(store_module, "COMPARED_ROWS", 0)
        assert engine.use_store(tmp_path_factory.mktemp("store"), build=True)
    return engine


QUERIES = [
    Query.of("trust", ["service"]),
    Query.of(
        "trust", ["fiscal_quarter", "channel"], {"service": "Passport Services"}, "FY2025 Q1", "FY2026 Q4"
    ),
    Query.of(
        "ease", ["age_band", "urbanicity"], {"channel": ["phone", "in_person"]}, "FY2026 Q4", "FY2026 Q4"
    ),
    Query.of("emotion", ["segment"], {"age_band": "65+"}),
    Query.of(
        "trust", ["race_ethnicity"], {"urbanicity": "Rural", "channel": ["phone"]}, "FY2026 Q1", "FY2026 Q4"
    ),
    Query.of("wait_median", ["fiscal_quarter"], {"channel": "phone"}, "FY2025 Q1", "FY2025 Q4"),
    Query.of("wait_p90", ["service", "channel"], {}, "FY2026 Q4", "FY2026 Q4"),
    Query.of("wait_mean", ["month"], {"service": "Naturalization"}),
    Query.of("self_service_rate", ["race_ethnicity", "channel"], {}, "FY2026 Q4", "FY2026 Q4"),
    Query.of("responses", ["journey_stage"], {"service": "Vessel Registration"}),
    Query.of("trust_after_contact", ["wait_band", "channel"]),
    Query.of("went_well_ease", ["veteran_status"], {"segment": "Boaters"}),
    Query.of("response_rate", ["fiscal_quarter"]),
    Query.of("trust", [], {"service": "no such service"}),
    Query.of("wait_median", [], {"service": "no such service"}),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.metric}-{'-'.join(q.by) or 'overall'}")
def test_fast_path_equals_direct(fast_engine: Engine, query: Query) -> None:
    assert same(fast_engine.run(query), fast_engine.direct(query))


def test_cubes_answer_page_questions(fast_engine: Engine) -> None:
    assert fast_engine.store is not None
    for metric, dims in (
        ("trust", {"fiscal_quarter", "service", "channel"}),
        ("ease", {"age_band", "fiscal_quarter", "segment"}),
        ("wait_median", {"fiscal_quarter", "service"}),
        ("trust_after_contact", {"wait_band", "channel"}),
        ("ease", {"age_band", "urbanicity", "fiscal_quarter"}),
    ):
        assert fast_engine.store.cube(metric, dims) is not None, metric
    # Two equity dimensions under a page filter: a cube for the measures the pages compare group
    # within group, the stored rows for the others.
    pair = {"age_band", "urbanicity", "service", "channel", "segment", "fiscal_quarter"}
    assert fast_engine.store.cube("ease", pair) is not None
    assert fast_engine.store.cube("trust_after_contact", pair) is not None
    assert fast_engine.store.cube("satisfaction", {"age_band", "urbanicity", "service"}) is None
    query = Query.of("ease", ["age_band"], {"urbanicity": "Rural", "service": "Naturalization"})
    assert same(fast_engine.run(query), fast_engine.direct(query))


def test_a_small_metric_has_no_cube_of_two_equity_dimensions_under_a_page_filter(sample_dir: Path) -> None:
    """Below COMPARED_ROWS rows, one equity group within another under a page filter reads the rows:
    the sample's store (20,000 responses) has those cubes for no metric, and still answers alike."""
    engine = Engine(Warehouse(sample_dir, sealed=False))
    assert engine.use_store(sample_dir / ".cx-store") and engine.store is not None
    rows = engine.warehouse.row_count("responses")
    assert 0 < rows < store_module.COMPARED_ROWS
    pair = {"age_band", "urbanicity", "service", "channel", "segment", "fiscal_quarter"}
    assert all(not pair <= cube.dimensions for cubes in engine.store.cubes.values() for cube in cubes)
    # Those of each equity dimension under the page filters, and of two by quarter, are there.
    assert engine.store.cube("ease", {"age_band", "service", "channel", "segment", "month"}) is not None
    assert engine.store.cube("ease", {"age_band", "urbanicity", "fiscal_quarter"}) is not None
    for metric in ("ease", "trust_after_contact"):
        query = Query.of(metric, ["age_band"], {"urbanicity": "Rural", "service": "Naturalization"})
        assert same(engine.run(query), engine.direct(query))


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters((("service", ("Passport Services",)),), "FY2025 Q3", "FY2026 Q2"),
        Filters((("channel", ("phone", "website")), ("segment", ("Travelers",)))),
        Filters((("service", ("no such service",)),)),
    ],
    ids=["all", "service-period", "channel-segment", "nothing"],
)
def test_analysis_sums_from_the_store_equal_the_rows(fast_engine: Engine, filters: Filters) -> None:
    assert fast_engine.store is not None
    needed = {d for d, _ in filters.where} | ({"fiscal_quarter"} if filters.start else set())
    assert fast_engine.store.cube("analyses/driver_moments", needed) is not None
    stored, _ = fast_engine.analyse("driver_moments", filters)
    read, _ = fast_engine.analyse("driver_moments", filters, fast=False)
    # Both come back in key order, so the same question gives the same frame either way.
    assert stored["bucket"].is_sorted() and read["bucket"].is_sorted()
    assert same(stored, read)
    if filters.where != (("service", ("no such service",)),):
        assert stored.height > 0 and stored["n"].sum() > 0


def test_alike_questions_answered_together_equal_the_rows(fast_engine: Engine) -> None:
    """Questions of one aggregate are answered in one statement (one per worker) whatever their
    filters, periods and breakdowns: each question's parameters are renamed apart, so the same
    filter with another value (a channel here, a service there) stays its own."""
    from metrics.query import WORKERS

    period = Filters((("channel", ("phone", "website")),), "FY2025 Q1", "FY2026 Q4")
    quarter = Filters((("channel", ("website",)),), "FY2026 Q2", "FY2026 Q2")
    nowhere = Filters((("service", ("no such service",)),))
    shares = ("trust", "ease", "effectiveness", "emotion")
    queries = [
        *(period.query(n, by=["fiscal_quarter"]) for n in shares),
        *(period.query(n, by=["segment"]) for n in shares),
        *(quarter.query(n, by=["segment"]) for n in shares),
        period.query("self_service_rate", by=["fiscal_quarter"]),  # a share too
        *(nowhere.query(n) for n in shares),  # no rows and no breakdown: one row each, as directly
        period.query("wait_median", by=["fiscal_quarter"]),
        Query.of("trust", ["no_such_dimension"]),
    ]
    fast_engine.forget_results()
    stacks = fast_engine._stacks(queries)
    # Every share in one stack, cut in one per worker; a median and a bad query are left.
    stacked = queries[:-2]
    parts = max(1, min(WORKERS, len(stacked) // 2))
    assert sorted(len(stack) for stack in stacks) == sorted(len(stacked[s::parts]) for s in range(parts))
    assert {query for stack in stacks for query, _, _ in stack} == set(stacked)
    with pytest.raises(QueryError, match="unknown dimension 'no_such_dimension'"):
        fast_engine.run_many(queries)
    fast_engine.forget_results()
    answered = fast_engine.run_many(queries[:-1])
    for query, result in zip(queries, answered, strict=False):
        assert same(result, fast_engine.direct(query)), query
    assert all(r.height == 1 and r["value"].is_null().all() for r in answered[-5:-1])


def test_a_view_with_none_of_a_measures_rows_is_answered_without_reading_them(
    fast_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no breakdown, the direct computation answers one row even over no rows (no value, n 0).
    Where a cube shows that no row passes the filters, that row is computed once per metric over a
    condition no row passes, not by reading the rows: asked alone or with others, as the equal of
    the rows' answer, for shares, means and medians."""
    names = ("trust", "wait_mean", "wait_median")
    nowhere = Filters((("service", ("no such service",)),), "FY2025 Q1", "FY2026 Q4")
    elsewhere = Filters((("channel", ("no such channel",)),), "FY2026 Q2", "FY2026 Q2")
    expected = [fast_engine.direct(nowhere.query(n)) for n in names]
    assert all(r.height == 1 and r["value"].is_null().all() and r["n"].to_list() == [0] for r in expected)
    ran = recorded_statements(fast_engine, monkeypatch)
    fast_engine.forget_results()
    alone = [fast_engine.run(nowhere.query(n)) for n in names]
    fast_engine.forget_results()
    together = fast_engine.run_many([q for n in names for q in (elsewhere.query(n), nowhere.query(n))])
    for answer, direct in zip([*alone, *together[1::2], *together[0::2]], expected * 3, strict=True):
        assert same(answer, direct)
    # The rows are read only for the one row over none, once per metric, whatever the filters.
    over_rows = [sql for sql in ran if "metric_rows" in sql]
    assert len(over_rows) <= len(names) and all("where false" in sql for sql in over_rows), over_rows


def test_the_longest_questions_are_started_first(
    fast_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers take a page's jobs in order: a question answered alone (the median wait, which reads
    every value) is started before the stacks, which sum a few cube rows, so that the two workers
    finish together rather than one waiting on a median started last (the overview's tiles)."""
    period = Filters((), "FY2025 Q2", "FY2026 Q3")
    queries = [
        *(period.query(n, by=["fiscal_quarter"]) for n in ("trust", "ease", "effectiveness", "emotion")),
        period.query("wait_median", by=["fiscal_quarter"]),
        period.query("wait_median", by=["fiscal_quarter", "channel"]),
    ]
    fast_engine.forget_results()
    ordered: list[object] = []
    started = fast_engine._started

    def noted(function: Any, items: Any) -> list[Any]:
        ordered.extend(items)
        return started(function, ordered)

    monkeypatch.setattr(fast_engine, "_started", noted)
    answered = fast_engine.run_many(queries)
    medians = [q for q in queries if q.metric == "wait_median"]
    assert ordered[: len(medians)] == medians and all(
        isinstance(job, list) for job in ordered[len(medians) :]
    )
    monkeypatch.undo()
    for query, result in zip(queries, answered, strict=True):
        assert same(result, fast_engine.direct(query)), query


@pytest.mark.parametrize(
    "filters",
    [Filters((), "FY2025 Q2", "FY2026 Q3"), Filters((("channel", ("website",)),), "FY2026 Q1", "FY2026 Q4")],
    ids=["period", "channel"],
)
def test_breakdowns_of_one_metric_read_its_cube_once_and_equal_the_rows(
    fast_engine: Engine, filters: Filters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overview's gap search asks each measure some sixty breakdowns under the same filters: one
    statement per worker answers every measure's, each measure's cube table read in one of them,
    with the same groups, counts and hidden cells, each group in its own column and type (the
    statement reads them through shared key columns)."""
    from metrics.analyses.gaps import _plan
    from metrics.query import WORKERS

    names = ("trust", "ease", "effectiveness")
    queries = [q for name in names for q in _plan(fast_engine, name, filters).values()]
    fast_engine.forget_results()
    jobs = fast_engine._breakdowns(queries)
    assert len(jobs) == min(WORKERS, len(names))
    read = [[metric.name for _, metric, _ in job.members] for job in jobs]
    # Each measure whole in one statement, its breakdowns together.
    assert sorted(name for names_read in read for name in dict.fromkeys(names_read)) == sorted(names)
    assert all(len(list(itertools.groupby(names_read))) == len(set(names_read)) for names_read in read)
    assert sum(len(job.members) for job in jobs) == len(queries)
    # A measure alone is cut in one part per worker, so the workers share it.
    alone = [q for q in queries if q.metric == "trust"]
    assert [len(job.members) for job in fast_engine._breakdowns(alone)] == [
        len(alone[start::WORKERS]) for start in range(WORKERS)
    ]

    def refuse(*args: object) -> None:
        raise AssertionError(f"{args[0]} was answered alone or stacked")

    monkeypatch.setattr(fast_engine, "_run", refuse)
    monkeypatch.setattr(fast_engine, "_run_stack", refuse)
    answered = fast_engine.run_many(queries)
    monkeypatch.undo()
    for query, result in zip(queries, answered, strict=True):
        direct = fast_engine.direct(query)
        assert same(result, direct) and result.schema == direct.schema, query
    assert any(r["suppressed"].any() for r in answered) and any(r.height > 20 for r in answered)


def test_stacked_answers_are_each_answer_one_after_another(fast_engine: Engine) -> None:
    """The gap search reads a view's answers as one table (Engine.stacked): off the statement's
    finished table where its breakdowns were answered together, from each answer otherwise. Either
    way each answer's rows are there as `run` gives them, groups, counts and hidden cells alike, one
    answer after another, for an engine confined to some services too."""
    from metrics.analyses.gaps import _plan

    filters = Filters((("channel", ("website",)),), "FY2026 Q1", "FY2026 Q4")
    queries = [q for name in ("trust", "ease") for q in _plan(fast_engine, name, filters).values()]
    keys = ["cx_key0", "cx_key1"]

    def expected(engine: Engine) -> list[tuple[object, ...]]:
        rows = []
        for place, query in enumerate(queries):
            answer = engine.run(query)
            for row in answer.iter_rows(named=True):
                groups = [row[d] for d in query.by] + [None] * (len(keys) - len(query.by))
                rows.append((place, *groups, *(v for c, v in row.items() if c not in query.by)))
        return rows

    for engine in (fast_engine, fast_engine.confined(frozenset({"Passport Services"}))):
        engine.forget_results()
        engine.run(queries[3])  # answered alone first: read from its own answer
        engine.run_many(queries)
        with engine._lock:
            cut = {key[0] for key in engine._cut_from}
        assert engine._narrowed(queries[3]) not in cut and len(cut) > len(queries) // 2
        stacked = engine.stacked(queries)
        assert stacked.columns[:3] == ["cx_part", *keys] and "raw_n" not in stacked.columns
        assert stacked["cx_part"].dtype == pl.Int64 and stacked["cx_key0"].dtype == pl.String
        assert stacked.rows() == expected(engine)
        assert stacked["suppressed"].any() and stacked["cx_part"].n_unique() > len(queries) // 2
    # Forgotten with the results, and read again from the answers asked again.
    fast_engine.forget_results()
    assert not fast_engine._cut_from
    assert fast_engine.stacked(queries).rows() == expected(fast_engine)
    # Self-service has no score, so its answers have no mean, though it shares trust's statement:
    # its rows' mean is empty, as its answers have none, not the statement's.
    mixed = [q for name in ("trust", "self_service_rate") for q in _plan(fast_engine, name, filters).values()]
    fast_engine.run_many(mixed)
    stacked = fast_engine.stacked(mixed)
    rows = []
    for place, query in enumerate(mixed):
        answer = fast_engine.run(query)
        for row in answer.iter_rows(named=True):
            groups = [row[d] for d in query.by] + [None] * (len(keys) - len(query.by))
            rows.append((place, *groups, *(row.get(c) for c in stacked.columns[3:])))
    assert "mean" not in fast_engine.run(mixed[-1]).columns and stacked.rows() == rows
    ours = stacked.filter(pl.col("cx_part") >= len(_plan(fast_engine, "trust", filters)))
    assert ours.height and ours["mean"].null_count() == ours.height


def test_a_quantile_asked_by_whole_cells_reads_the_running_counts_its_cube_keeps(
    fast_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A median or 90th percentile whose every group is one cell of a grain (by quarter; under one
    service; one quarter by channel, or by two equity groups) is read off the running counts its cube keeps, with no window;
    groups that span cells (two channels, several quarters) are counted again. Both equal the rows,
    hidden cells alike. (Its cube by service and channel is by segment too: the last spans segments.)"""
    period = ("FY2025 Q1", "FY2026 Q4")
    whole = [
        Query.of("wait_median", ["fiscal_quarter"], {}, *period),
        Query.of("wait_median", ["fiscal_quarter"], {"service": "Passport Services"}, *period),
        Query.of("wait_p90", ["channel"], {}, "FY2026 Q4", "FY2026 Q4"),
        Query.of("wait_median", ["age_band", "urbanicity"], {}, "FY2026 Q4", "FY2026 Q4"),
    ]
    spanning = [
        Query.of("wait_median", ["fiscal_quarter"], {"channel": ["phone", "web"]}, *period),
        Query.of("wait_median", ["channel"], {}, *period),
        Query.of("wait_p90", ["channel"], {"service": "Naturalization"}, "FY2026 Q4", "FY2026 Q4"),
    ]
    ran = recorded_statements(fast_engine, monkeypatch)
    hidden = False
    for query, counted in [*((q, False) for q in whole), *((q, True) for q in spanning)]:
        fast_engine.forget_results()
        ran.clear()
        result = fast_engine.run(query)
        assert len(ran) == 1, query
        assert ("partition by cell" in ran[0]) == counted, query
        assert same(result, fast_engine.direct(query)), query
        hidden = hidden or bool(result["suppressed"].any())
    assert hidden


def test_suppression_applies_to_the_fast_path(fast_engine: Engine) -> None:
    query = Query.of("ease", ["age_band", "service"], {}, "FY2026 Q4", "FY2026 Q4")
    fast, direct = fast_engine.run(query), fast_engine.direct(query)
    assert fast["suppressed"].any() and not fast["suppressed"].all()
    assert same(fast, direct)
    hidden = fast.filter("suppressed")
    assert hidden["value"].is_null().all() and hidden["n"].is_null().all()


def test_every_metric_agrees(fast_engine: Engine) -> None:
    queries = agreement_queries(fast_engine)
    assert len(queries) >= len(fast_engine.catalog.metrics)
    different = [q for q in queries if not same(fast_engine.run(q), fast_engine.direct(q))]
    assert different == []


def test_each_way_of_computing_a_cube_gives_the_same_rows(fast_engine: Engine) -> None:
    """The build computes a cube through hubs, through its roots when short of memory, or by copies of
    few rows (composition.Plan): on the sample, each gives the same table, row for row, for a measure
    of every dimension and a median (whose grains are always read as themselves: no hubs); and so do
    metrics summed together."""
    from metrics import composition

    con = fast_engine.warehouse.cursor()

    def same(*queries: str) -> None:
        for i, sql in enumerate(queries):
            con.execute(f"create or replace temp table cx_way{i} as {sql}")
        counted = {con.execute(f"select count(*) from cx_way{i}").fetchone() for i in range(len(queries))}
        assert len(counted) == 1 and counted != {(0,)}, counted
        # As many rows, and none of the first missing from another: the same rows.
        for i in range(1, len(queries)):
            assert con.execute(f"from cx_way0 except all from cx_way{i}").fetchall() == [], i

    plans: dict[str, tuple[composition.Plan, ...]] = {
        "trust": ("hubs", "roots", "copies"),
        "wait_median": ("hubs", "copies"),
    }
    for name, ways in plans.items():
        metric = fast_engine.metric(name)
        grains = store_module.grains_of(name, fast_engine.dimensions(metric))
        columns, sums = fast_engine.columns(metric), composition.sums(metric.aggregate)
        same(*(composition.cube_sql(metric.sql, columns, metric.aggregate, grains, sums, p) for p in ways))
    names = [f"went_well_{d}" for d in ("ease", "humanity", "employee")]
    shapes = [composition.plain(fast_engine.metric(n).sql) for n in names]
    grains = store_module.grains_of(names[0], fast_engine.dimensions(fast_engine.metric(names[0])))
    table = {str(r[0]): str(r[1]) for r in con.execute("describe stg_responses").fetchall()}
    same(
        *(
            composition.shared_cube_sql([s for s in shapes if s], table, "share", grains, plan)[0]
            for plan in ("hubs", "copies")
        )
    )


def test_known_answer_through_the_store(make_engine: EngineFactory, tmp_path: Path) -> None:
    rows = [{"trust": t, "service": s} for t, s in [(5, "A"), (4, "A"), (2, "A"), (5, "B"), (1, "B")]]
    engine = make_engine(min_n=3, sealed=False, responses=rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "MAX_CUBE_SHARE", 1.0)
        assert engine.use_store(tmp_path / "store", build=True)
    result = engine.run(Query.of("trust", ["service"]))
    # A: 2 of 3 positive. B has 2 answers, under the minimum of 3, and A is hidden alongside it.
    assert result["suppressed"].to_list() == [True, True]
    overall = engine.run(Query.of("trust"))
    assert overall["value"].to_list() == [pytest.approx(3 / 5)] and overall["n"].to_list() == [5]


def test_cubes_keep_dimensions_as_codes_unless_a_metric_makes_a_value_of_its_own(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    """A cube keeps each dimension as a code of the values the models hold; a metric whose rows hold
    one they do not (here `voice`, which it makes itself) keeps its dimensions as text. The pages
    read both alike, and the numbers are those worked out by hand."""
    metrics = metric_files(tmp_path / "metrics", "trust")
    (metrics / "trust_by_voice.sql").write_text(
        "-- label: Trust by voice\n-- description: Trust, the phone counted as voice.\n-- unit: share\n"
        "-- format: percent\n-- direction: higher_is_better\n-- theme: Trust\n-- owner: Test\n"
        "-- aggregate: share\n\n-- One row per answer, the phone counted as voice.\n"
        "select * replace (case when channel = 'phone' then 'voice' else channel end as channel),\n"
        "    case when trust >= 4 then 1 else 0 end as value\nfrom stg_responses where trust is not null\n"
    )
    answers = [
        (5, "A", "phone"),
        (4, "A", "phone"),
        (2, "A", "website"),
        (5, "B", "website"),
        (1, "B", "phone"),
    ]
    rows = [{"trust": t, "service": s, "channel": c} for t, s, c in answers]
    engine = make_engine(sealed=False, catalog_dir=metrics, responses=rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "MAX_CUBE_SHARE", 1.0)
        assert engine.use_store(tmp_path / "store", build=True) and engine.store is not None
    store, con = engine.store, engine.warehouse.cursor()

    def kind(metric: str, column: str) -> str:
        table = store.cubes[metric][0].table
        found = con.execute(
            "select data_type from duckdb_columns() where table_name = $t and column_name = $c",
            {"t": table, "c": column},
        ).fetchone()
        return str(found[0]) if found else ""

    assert kind("trust", "channel") == "ENUM('phone', 'website')"
    assert kind("trust", "service") == "ENUM('A', 'B')"
    assert kind("trust_by_voice", "channel") == kind("trust_by_voice", "service") == "VARCHAR"
    # trust by channel within service A: phone 2 of 2 positive, website 0 of 1.
    within = engine.run(Query.of("trust", ["channel"], {"service": "A"}))
    assert within.sort("channel").select("channel", "value", "n").rows() == [
        ("phone", 1.0, 2),
        ("website", 0.0, 1),
    ]
    assert within.schema["channel"] == pl.Utf8
    # The phone's 5, 4 and 1 are voice: 2 of 3; the website's 2 and 5: 1 of 2.
    voice = engine.run(Query.of("trust_by_voice", ["channel"]))
    assert voice.sort("channel").select("channel", "value", "n").rows() == [
        ("voice", pytest.approx(2 / 3), 3),
        ("website", 0.5, 2),
    ]
    for query in (Query.of("trust", ["channel"], {"service": "A"}), Query.of("trust_by_voice", ["channel"])):
        assert same(engine.run(query), engine.direct(query))


def test_store_follows_its_inputs(sample_dir: Path, tmp_path: Path) -> None:
    warehouse = Warehouse(sample_dir)
    engine = Engine(warehouse)
    metrics = list(engine.catalog.metrics.values())
    before = store_path(warehouse, metrics, tmp_path)
    assert store_path(warehouse, metrics, tmp_path) == before
    responses = sample_dir / "responses.parquet"
    stat = responses.stat()
    try:
        os.utime(responses, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert store_path(Warehouse(sample_dir), metrics, tmp_path) != before
    finally:
        os.utime(responses, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store_path(warehouse, metrics[1:], tmp_path) != before


def test_a_start_with_a_built_store_serves_the_checked_inputs_from_it(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    rows = [{"trust": t, "service": s} for t, s in [(5, "A"), (4, "A"), (9, "A"), (5, "B"), (1, "B")]]
    first = make_engine(min_n=1, responses=rows)  # writes the inputs; its data folder is reused below
    data_dir = first.warehouse.data_dir
    said: list[str] = []
    built = Engine.open(data_dir, 1, tmp_path / "store", build=True, progress=said.append, exact=True)
    # Each input is written into the store as it is read and checked, not copied there afterwards.
    assert any(m.startswith("read and checked responses") for m in said)
    assert not [m for m in said if m.startswith("copied raw_")]
    again = Engine.open(data_dir, 1, tmp_path / "store", build=True, exact=True)
    assert again.store is not None and again.store.path == built.store.path  # type: ignore[union-attr]
    # Nothing was copied into memory: the inputs are the store's tables, on disk.
    copied = again.warehouse.cursor().sql(
        "select table_name from duckdb_tables() where database_name = 'memory' and table_name like 'raw_%'"
    )
    assert copied.fetchall() == []
    # What loading found is kept: the answer 9 is out of range, rejected and counted, not served.
    assert again.warehouse.inputs["responses"].rejected == built.warehouse.inputs["responses"].rejected == 1
    assert [str(p) for p in again.warehouse.check()] == [str(p) for p in built.warehouse.check()]
    assert again.warehouse.coverage() == built.warehouse.coverage()
    for query in (Query.of("trust", ["service"]), Query.of("responses")):
        assert again.run(query).equals(first.run(query))
    assert again.warehouse.sealed
    # The build copied the inputs into a scratch file beside the store, removed once it was done.
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [".build.lock", built.store.path.name]  # type: ignore[union-attr]
    assert built.warehouse.database is None and again.warehouse.database is None


class _Watched:
    """A cursor that records each statement binding a SQL text's columns (`describe`)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, bound: list[str]) -> None:
        self._cursor, self._bound = cursor, bound

    def execute(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
        if sql.startswith("describe"):
            self._bound.append(sql)
        return self._cursor.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def test_a_start_with_a_built_store_binds_no_metric_again_unless_its_sql_changed(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"trust": t, "service": s} for t, s in [(5, "A"), (4, "A"), (5, "B"), (1, "B")]]
    live = make_engine(min_n=1, responses=rows)  # no store: binds each metric's SQL as it is asked
    data_dir = live.warehouse.data_dir
    Engine.open(data_dir, 1, tmp_path / "store", build=True)
    again = Engine.open(data_dir, 1, tmp_path / "store", exact=True)
    assert again.store is not None
    usable = [m for m in again.catalog.metrics.values() if not again.unusable(m)]
    assert sorted(again.store.columns) == sorted(m.name for m in usable)
    bound: list[str] = []
    cursor = again.warehouse.cursor
    monkeypatch.setattr(again.warehouse, "cursor", lambda: _Watched(cursor(), bound))
    for metric in usable:
        assert again.columns(metric) == live.columns(metric), metric.name
    assert bound == []
    # Nor any cube table's, nor the comments' or their topics': the store records their columns too.
    cube_tables = {c.table for cs in again.store.cubes.values() for c in cs}
    assert set(again.store.tables) == cube_tables | set(store_module.PAGE_TABLES)
    assert again.run(Query.of("trust", ["service"])).equals(live.run(Query.of("trust", ["service"])))
    assert bound == []
    # A store served after another drops the first one's cube tables' columns, which may differ.
    table = again.store.cube("trust", {"service"})
    assert table is not None
    wrong = Engine.serving(
        Warehouse.unloaded(data_dir),
        replace(again.store, tables={table.table: {"x": "VARCHAR"}}),
        again.catalog,
        1,
    )
    wrong._serve(replace(again.store, tables={}), read_previous=False)
    right = Engine.serving(Warehouse.unloaded(data_dir), again.store, again.catalog, 1)
    assert wrong.run(Query.of("trust", ["service"])).equals(right.run(Query.of("trust", ["service"])))
    # Columns recorded for another SQL than the metric's now (a file edited since) are not taken.
    trust = again.catalog.metrics["trust"]
    stale = MetricColumns("trust", "the digest of an earlier file", {"trust": "VARCHAR"})
    other = Engine.serving(
        Warehouse.unloaded(data_dir), replace(again.store, columns={"trust": stale}), again.catalog, 1
    )
    assert other.columns(trust) == live.columns(trust) != stale.columns
    # A store from before the columns were recorded is read as before; each metric is bound as asked.
    older = tmp_path / "older" / again.store.path.name
    older.parent.mkdir()
    shutil.copy2(again.store.path, older)
    with duckdb.connect(str(older)) as con:
        con.execute("drop table cx_columns")
        con.execute("drop table cx_tables")
    opened = store_module.open_store(older)
    assert opened is not None and opened.columns == {} and opened.cubes == again.store.cubes
    assert opened.tables == {}


def metric_files(folder: Path, *names: str) -> Path:
    """Copy these metric files of sql/metrics/ into `folder` (a catalog of them alone) and return it."""
    folder.mkdir()
    for name in names:
        shutil.copy2(METRICS_DIR / f"{name}.sql", folder)
    return folder


def test_a_changed_or_new_metric_file_builds_only_its_own_cubes(
    small_sample_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(small_sample_dir, data_dir, ignore=shutil.ignore_patterns(".*"))
    metrics_dir = metric_files(tmp_path / "metrics", "trust", "ease", "emotion", "wait_median", "responses")
    store_dir = tmp_path / "store"

    def opened(messages: list[str]) -> Engine:
        engine = Engine(Warehouse(data_dir, sealed=False, load=False), load_catalog(metrics_dir), 10)
        assert engine.use_store(store_dir, build=True, progress=messages.append)
        return engine

    before = opened([])
    # Trust counts only "strongly agree"; a new file counts ease's rows again under its own name.
    trust = metrics_dir / "trust.sql"
    trust.write_text(trust.read_text().replace("trust >= 4", "trust >= 5"))
    ease = (metrics_dir / "ease.sql").read_text()
    (metrics_dir / "ease_again.sql").write_text(ease.replace("-- label: Ease", "-- label: Ease again"))
    messages: list[str] = []
    after = opened(messages)

    computed = {name for m in messages if m.startswith("[") for name in re.findall(r"(\w+): \d+ cubes", m)}
    assert computed == {"trust", "ease_again"}
    copied = {m.split(":")[0] for m in messages if m.endswith("copied from the previous store")}
    assert {"ease", "emotion", "wait_median", "responses"} <= copied and "trust" not in copied
    assert any(m.startswith("copied responses_with_contacts from the previous store") for m in messages)
    assert not [m for m in messages if m.startswith("read and checked")]  # no input is read again
    query = Query.of("trust", ["service"], {}, "FY2026 Q1", "FY2026 Q4")
    assert same(after.run(query), after.direct(query))
    assert not same(after.run(query), before.run(query))  # strongly agree only: fewer positive
    assert same(after.run(Query.of("ease_again", ["channel"])), after.run(Query.of("ease", ["channel"])))
    assert len(list(store_dir.glob("store-*"))) == 1


def test_while_a_newer_store_is_built_the_earlier_one_answers_by_the_current_metric_files(
    small_sample_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(small_sample_dir, data_dir, ignore=shutil.ignore_patterns(".*"))
    metrics_dir = metric_files(tmp_path / "metrics", "trust", "ease", "abandonment_rate")
    store_dir = tmp_path / "store"
    assert interim(data_dir, store_dir, catalog=load_catalog(metrics_dir)) is None  # nothing built yet
    Engine(Warehouse(data_dir, sealed=False, load=False), load_catalog(metrics_dir)).use_store(
        store_dir, True
    )
    assert interim(data_dir, store_dir, catalog=load_catalog(metrics_dir)) is None  # the current one is built

    trust = metrics_dir / "trust.sql"
    trust.write_text(trust.read_text().replace("trust >= 4", "trust >= 5"))
    contacts = data_dir / "contacts.parquet"
    pl.read_parquet(contacts).filter(pl.col("channel") != "phone").write_parquet(contacts)
    shown = interim(data_dir, store_dir, catalog=load_catalog(metrics_dir))
    assert shown is not None and shown.engine.store is not None
    assert shown.metrics_changed == ("trust",) and shown.inputs_changed == ("contacts",)
    # The edited metric has no cube there: it is answered from the earlier store's rows, by its new file.
    assert "trust" not in shown.engine.store.cubes and "ease" in shown.engine.store.cubes
    assert "trust" not in shown.engine.store.columns and "ease" in shown.engine.store.columns
    kept = {c.table for cubes in shown.engine.store.cubes.values() for c in cubes}
    assert kept and set(shown.engine.store.tables) == kept | set(store_module.PAGE_TABLES)
    query = Query.of("trust", ["channel"], {}, "FY2026 Q1", "FY2026 Q4")
    assert same(shown.engine.run(query), shown.engine.direct(query))
    strongly = shown.engine.run(Query.of("trust"))["value"][0]
    assert strongly < 0.5 < Engine.open(small_sample_dir).run(Query.of("trust"))["value"][0]
    # The contacts are those of the earlier files until the newer store is built, and so is their date.
    [listed] = [c for c in shown.engine.warehouse.coverage() if c.input == "contacts"]
    assert listed.modified is not None and listed.modified.timestamp() <= shown.built.timestamp()
    phone = Query.of("abandonment_rate", [], {"channel": "phone"})
    assert shown.engine.run(phone)["n"][0] > 0


def test_a_model_another_holds_whole_is_a_view_of_it_in_the_store(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    """stg_responses is kept as a view of responses_with_contacts, which holds each of its rows once
    with every column: it reads the same rows, wherever the store is attached, with a table of the
    same name beside it."""
    responses = [
        {"trust": 5, "contact_id": "C1", "service": "Passport Services"},
        {"trust": 2, "service": "Naturalization"},
        {"trust": 2, "contact_id": "C2", "service": "Passport Services"},
    ]
    contacts = [
        {"contact_id": "C1", "queue_wait_seconds": 30},
        {"contact_id": "C2", "queue_wait_seconds": 900},
    ]
    data_dir = make_engine(min_n=1, responses=responses, contacts=contacts).warehouse.data_dir
    engine = Engine.open(
        data_dir, 1, tmp_path / "store", build=True, catalog=catalog_of("trust"), comments=False, exact=True
    )
    assert engine.store is not None
    model = Warehouse(data_dir).cursor().execute("select * from stg_responses order by response_id")
    expected, columns = model.fetchall(), [c[0] for c in model.description or ()]
    assert len(expected) == 3 and "contact_wait_seconds" not in columns
    con = duckdb.connect()
    con.execute("create table responses_with_contacts as select 1 as response_id")  # not the store's
    con.execute(f"attach '{engine.store.path}' as elsewhere (read_only)")
    views = con.execute("select view_name from duckdb_views() where database_name = 'elsewhere'").fetchall()
    assert views == [("stg_responses",)]
    stored = con.execute("select * from elsewhere.stg_responses order by response_id")
    assert [c[0] for c in stored.description or ()] == columns and stored.fetchall() == expected
    # The pages read it as they read the model: trust in service, 1 of 2 and 0 of 1 in the top box.
    by_service = engine.run(Query.of("trust", ["service"])).sort("service")
    assert by_service["value"].to_list() == [0.0, 0.5]


def test_a_model_is_copied_whole_when_the_one_said_to_hold_it_does_not() -> None:
    """`_viewed` keeps a model as a view only where the other's table bears it out: the same columns of
    the same types and as many rows."""
    con = duckdb.connect()
    con.execute(f"attach ':memory:' as {store_module.ALIAS}")
    con.execute("create view model as select * from (values (1, 'a'), (2, 'b')) t(id, label)")
    con.execute(
        f"create table {store_module.ALIAS}.longer as select * from (values (1, 'a'), (2, 'b'), (2, 'b')) t(id, label)"
    )
    con.execute(
        f"create table {store_module.ALIAS}.retyped as select * from (values ('1', 'a'), ('2', 'b')) t(id, label)"
    )
    con.execute(f"create table {store_module.ALIAS}.holder as select *, 0 as extra from model")
    assert not store_module._viewed(con, "model", "longer")
    assert not store_module._viewed(con, "model", "retyped")
    assert store_module._viewed(con, "model", "holder")
    kept = con.execute(f"select * from {store_module.ALIAS}.model order by id").fetchall()
    assert kept == [(1, "a"), (2, "b")]


def test_a_rebuild_copies_what_reads_only_unchanged_inputs(small_sample_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(small_sample_dir, data_dir, ignore=shutil.ignore_patterns(".*"))
    store_dir = tmp_path / "store"
    # Metrics of each input, and of responses joined to contacts.
    catalog = catalog_of(
        "trust", "ease", "abandonment_rate", "self_service_rate", "response_rate", "offer_rate",
        "wait_median", "trust_after_contact",
    )  # fmt: skip
    Engine.open(data_dir, 10, store_dir, build=True, catalog=catalog, comments=False)

    def rebuilt(change: str, keep: pl.Expr) -> tuple[Engine, list[str]]:
        path = data_dir / f"{change}.parquet"
        pl.read_parquet(path).filter(keep).write_parquet(path)
        messages: list[str] = []
        engine = Engine.open(
            data_dir, 10, store_dir, build=True, progress=messages.append, catalog=catalog, comments=False
        )
        return engine, messages

    # New collections: only the rates that read them are computed again.
    engine, messages = rebuilt("collections", pl.col("fiscal_quarter") != 2)
    copied = {m.split(":")[0].split("] ")[-1] for m in messages if "copied from the previous store" in m}
    assert {"trust", "ease", "abandonment_rate", "self_service_rate", "analysis driver_moments"} <= copied
    assert not copied & {"response_rate", "offer_rate"}
    said = " ".join(messages)
    assert "copied responses_with_contacts from the previous store" in said
    assert "kept stg_responses as a view of responses_with_contacts" in said
    # Only the changed input is read and checked again.
    kept = pl.read_parquet(data_dir / "collections.parquet").height
    checked = [m for m in messages if m.startswith("read and checked")]
    assert len(checked) == 1 and checked[0].startswith(f"read and checked collections: {kept:,} rows (")
    # New contacts: what joins responses to contacts is computed again, the rest is copied.
    engine, messages = rebuilt("contacts", pl.col("channel") != "phone")
    copied = {m.split(":")[0].split("] ")[-1] for m in messages if "copied from the previous store" in m}
    assert {"trust", "response_rate", "self_service_rate", "analysis driver_moments"} <= copied
    assert not copied & {"abandonment_rate", "wait_median", "trust_after_contact"}
    assert len(list(store_dir.glob("store-*"))) == 1  # the previous store is removed

    # Whatever was copied, the numbers are those of a build from scratch on the same inputs.
    fresh = Engine.open(data_dir, 10, tmp_path / "fresh", build=True, catalog=catalog, comments=False)
    assert engine.store is not None and fresh.store is not None
    assert {m: set(c) for m, c in engine.store.cubes.items()} == {
        m: set(c) for m, c in fresh.store.cubes.items()
    }
    checks = agreement_queries(fresh)
    assert len(checks) > len(catalog.metrics) and all(same(engine.run(q), fresh.run(q)) for q in checks)
    for name in ("driver_moments",):
        assert engine.analyse(name, Filters((), None, None))[0].equals(
            fresh.analyse(name, Filters((), None, None))[0]
        )
    assert engine.warehouse.check() == fresh.warehouse.check()
    assert engine.warehouse.coverage() == fresh.warehouse.coverage()


def test_a_rebuild_after_a_code_change_takes_nothing_from_the_previous_store(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = make_engine(min_n=1, responses=[{"trust": 5}, {"trust": 1}]).warehouse.data_dir
    built = Engine.open(data_dir, 1, tmp_path / "store", build=True)
    assert built.store is not None
    warehouse = Warehouse(data_dir)
    metrics = list(built.catalog.metrics.values())
    target = tmp_path / "store" / "store-next.duckdb"
    same_code = store_module.previous_store(target, store_module.fingerprint(warehouse, metrics))
    assert same_code is not None and same_code.unchanged == {
        "responses",
        "contacts",
        "transactions",
        "collections",
    }
    monkeypatch.setattr("metrics.store.GRAINS", store_module.GRAINS[1:])
    assert store_module.previous_store(target, store_module.fingerprint(warehouse, metrics)) is None


def test_a_build_that_cannot_write_answers_from_the_parquet(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"trust": t, "service": s} for t, s in [(5, "A"), (4, "A"), (5, "B"), (1, "B")]]
    data_dir = make_engine(min_n=1, responses=rows).warehouse.data_dir

    def cannot_write(*_: object, **__: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("metrics.query.build_store", cannot_write)
    with pytest.warns(UserWarning, match="No space left on device; answering from the parquet"):
        engine = Engine.open(data_dir, 1, tmp_path / "store", build=True, exact=True)
    assert engine.store is None and engine.warehouse.database is None and engine.warehouse.sealed
    assert engine.run(Query.of("trust"))["value"].to_list() == [0.75]
    assert [p.name for p in (tmp_path / "store").iterdir()] == [".build.lock"]  # the lock only


def test_a_build_that_fails_while_reading_the_inputs_says_why_and_leaves_no_file(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inputs are written into the store file as they are read: a build that fails half way
    through them removes that file and raises its own error, not one of the half-read inputs."""
    from metrics.errors import CxError

    data_dir = make_engine(min_n=1, responses=[{"trust": 5, "comment": "Fine"}]).warehouse.data_dir

    def missing(*_: object) -> int:
        raise CxError("comments cannot be redacted: No module named 'presidio_analyzer'")

    monkeypatch.setattr("metrics.warehouse._redact", missing)
    with pytest.raises(CxError, match="comments cannot be redacted"):
        Engine.open(data_dir, 1, tmp_path / "store", build=True)
    assert [p.name for p in (tmp_path / "store").iterdir()] == [".build.lock"]  # no half-built store


def test_duckdb_holds_at_most_the_memory_limit_serving_and_building(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = make_engine(min_n=1, responses=[{"trust": 5}] * 3 + [{"trust": 1}]).warehouse.data_dir
    limits: list[object] = []
    build = store_module.build_store

    def recording(warehouse: Warehouse, *args: object, **kwargs: object) -> object:
        limits.append(warehouse.cursor().execute("select current_setting('memory_limit')").fetchone())
        return build(warehouse, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("metrics.query.build_store", recording)
    engine = Engine.open(data_dir, 1, tmp_path / "store", build=True, memory_limit="256MB", exact=True)
    serving = engine.warehouse.cursor().execute("select current_setting('memory_limit')").fetchone()
    assert limits == [("244.1 MiB",)] and serving == ("244.1 MiB",)
    assert engine.store is not None and engine.run(Query.of("trust"))["value"].to_list() == [0.75]


def test_cubes_that_do_not_fit_in_memory_even_alone_name_their_metric_and_the_limit(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = make_engine(responses=[{"trust": 5}]).warehouse.data_dir
    catalog = load_catalog()
    only = Catalog({"trust": catalog.metrics["trust"]}, ())

    def short_of_memory(con: duckdb.DuckDBPyConnection, metric: Any, *args: Any, **kwargs: Any) -> Any:
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")

    monkeypatch.setattr(store_module, "_cube_table", short_of_memory)
    with pytest.raises(
        CxError,
        match=r"^trust\.sql: its cubes do not fit in DuckDB's memory limit \(244\.1 MiB\); raise CX_MEMORY_LIMIT",
    ):
        Engine.open(data_dir, 1, tmp_path / "store", build=True, memory_limit="256MB", catalog=only)


def test_a_dead_builds_scratch_is_cleaned_and_two_builds_at_once_build_one_store(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from metrics.store import clean_scratch

    rows = [{"trust": t} for t in (5, 4, 1)]
    data_dir = make_engine(min_n=1, responses=rows).warehouse.data_dir
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    # A build killed mid-way left its scratch copy and half a store; a running build's are kept.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    gone = int(dead.stdout)
    left = [store_dir / f".store-abc.{gone}.load.duckdb", store_dir / f".store-abc.duckdb.{gone}.tmp"]
    mine = store_dir / f".store-abc.{os.getpid()}.load.duckdb"
    for path in (*left, mine):
        path.write_bytes(b"scratch")
    assert sorted(clean_scratch(store_dir)) == sorted(left)
    assert mine.exists()
    mine.unlink()
    # Two processes start on the same new data at once: one builds, the other waits and serves it.
    script = (
        "import sys; from pathlib import Path; from metrics.query import Engine; "
        "e = Engine.open(Path(sys.argv[1]), 1, Path(sys.argv[2]), build=True, progress=lambda m: print(m, flush=True)); "
        "print('served', e.run(__import__('metrics.query', fromlist=['Query']).Query.of('trust'))['n'][0])"
    )
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(data_dir), str(store_dir)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    said = [p.communicate(timeout=120)[0] for p in starts]
    assert all(p.returncode == 0 for p in starts) and all("served 3" in s for s in said)
    assert sum("store built in" in s for s in said) == 1, said
    assert sum("another process is building the store; waiting for it" in s for s in said) <= 1
    assert len(list(store_dir.glob("store-*.duckdb"))) == 1


def test_a_serve_only_server_waits_for_the_store_cx_build_writes(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from metrics.catalog import load_catalog
    from metrics.errors import CxError
    from metrics.settings import Settings
    from metrics.store import store_path, wait_for_store

    data_dir = make_engine(min_n=1, responses=[{"trust": 5}, {"trust": 1}]).warehouse.data_dir
    store_dir = tmp_path / "store"
    path = store_path(
        Warehouse(data_dir, sealed=False, load=False), list(load_catalog().metrics.values()), store_dir
    )
    said: list[str] = []
    waiting = threading.Thread(target=wait_for_store, args=(path, said.append, 0.05))
    waiting.start()
    waiting.join(timeout=0.5)
    assert waiting.is_alive() and said == [
        f"waiting for `cx build` to build the store {path.name} in {store_dir} (CX_BUILD=never)"
    ]
    built = Engine.open(data_dir, 1, store_dir, build=True)  # what `cx build` does
    waiting.join(timeout=10)
    assert not waiting.is_alive() and built.store is not None and built.store.path == path
    monkeypatch.setenv("CX_BUILD", "never")
    assert Settings.load(str(data_dir)).build == "never"
    monkeypatch.setenv("CX_BUILD", "sometimes")
    with pytest.raises(CxError, match="CX_BUILD: value 'sometimes' is not one of auto, never"):
        Settings.load(str(data_dir))


def test_a_build_removes_older_stores_but_not_one_written_meanwhile(
    make_engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = make_engine(min_n=1, responses=[{"trust": 5}]).warehouse.data_dir
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    older = store_dir / "store-older.duckdb"
    older.write_bytes(b"")
    os.utime(older, (time.time() - 3600,) * 2)
    meanwhile = store_dir / "store-meanwhile.duckdb"
    building = store_module._build_comments

    def written_meanwhile(*args: object, **kwargs: object) -> None:
        meanwhile.write_bytes(b"")  # another process's whole store, finished during this build
        building(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module, "_build_comments", written_meanwhile)
    built = Engine.open(data_dir, 1, store_dir, build=True)
    assert built.store is not None and built.store.path.exists()
    assert not older.exists() and meanwhile.exists()


def test_a_server_keeps_answering_when_a_newer_build_replaces_its_store(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    rows = [{"trust": t} for t in (5, 4, 1)]
    data_dir = make_engine(min_n=1, responses=rows).warehouse.data_dir
    store_dir = tmp_path / "store"
    serving = Engine.open(data_dir, 1, store_dir, build=True, exact=True)
    assert serving.store is not None
    old = serving.store.path
    # New data arrives; another process (here, another engine) builds its store and removes the old one.
    write_inputs(data_dir, responses=[{"trust": t} for t in (5, 4, 1, 5)])
    newer = Engine.open(data_dir, 1, store_dir, build=True, exact=True)
    assert newer.store is not None and newer.store.path != old and not old.exists()
    # The running server still answers from the store it opened, whole, until it is restarted.
    assert serving.run(Query.of("trust", where={"channel": "website"}))["n"].to_list() == [3]
    assert serving.direct(Query.of("trust"))["n"].to_list() == [3]
    assert newer.run(Query.of("trust"))["n"].to_list() == [4]


def test_a_quantiles_grains_too_long_to_keep_are_not_computed(
    sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A median's cube keeps a row per group and distinct wait, so its finest grains come near its
    rows' length and would be dropped: estimated first, they are not computed. The grains kept are
    those the exact rule keeps, and a question at a grain left out is answered from the rows."""
    from metrics import composition

    # The sample is short: every grain of its median holds more than half its rows. Kept up to 70%.
    share = 0.7
    monkeypatch.setattr(store_module, "MIN_CUBE_ROWS", 0)
    monkeypatch.setattr(store_module, "MAX_CUBE_SHARE", share)
    computed: dict[str, list[tuple[str, ...]]] = {}
    cube_sql = composition.cube_sql

    def recorded(
        metric_sql: str,
        columns: dict[str, str],
        aggregate: str,
        grains: list[tuple[str, ...]],
        sums: list[str],
        plan: composition.Plan = "hubs",
        coded: dict[str, str] | None = None,
    ) -> str:
        computed.setdefault(aggregate, grains)
        return cube_sql(metric_sql, columns, aggregate, grains, sums, plan, coded)

    monkeypatch.setattr(composition, "cube_sql", recorded)
    catalog = catalog_of("wait_median")
    engine = Engine.open(sample_dir, store_dir=tmp_path / "store", build=True, catalog=catalog)
    assert engine.store is not None
    monkeypatch.undo()
    metric = engine.metric("wait_median")
    grains = store_module.grains_of(metric.name, engine.dimensions(metric))
    sql = cube_sql(metric.sql, engine.columns(metric), metric.aggregate, grains, composition.sums("median"))
    con = engine.warehouse.cursor()
    exact = dict(con.execute(f"select cx_grain, count(*) from ({sql}) group by all").fetchall())
    counted = con.execute(f"select count(*) from ({metric.sql})").fetchone()
    limit = share * (counted[0] if counted else 0)
    kept = {frozenset(g) for i, g in enumerate(grains) if exact.get(i, 0) <= limit}
    assert kept and {cube.dimensions for cube in engine.store.cubes["wait_median"]} == kept
    # Only those estimated within reach of the limit were computed: the finest were not.
    left_out = [g for g in grains if g not in computed["median"]]
    assert left_out and all(frozenset(g) not in kept for g in left_out)
    query = Query.of("wait_median", list(left_out[0][-2:]), {}, "FY2026 Q4", "FY2026 Q4")
    assert same(engine.run(query), engine.direct(query))


def test_metrics_read_together_get_the_cube_tables_each_gets_alone(
    small_sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Metrics whose rows are one table's are summed in one statement (composition.shared_cube_sql):
    every metric's cubes and cube table are those it gets when built alone, row for row. A statement
    that fails builds each of its metrics alone. A metric that runs out of memory beside another is
    built again alone, and through no hub if it runs out again: the same cube table, row for row."""
    from metrics import composition

    # Three groups read together (responses: the headline measures and the "went well" answers;
    # contacts: three shares) and two metrics read alone.
    catalog = catalog_of(
        "trust", "ease", "effectiveness", "went_well_ease", "went_well_other", "went_well_humanity",
        "abandonment_rate", "service_level", "first_contact_resolution", "emotion", "wait_median",
    )  # fmt: skip

    def built(store_dir: Path, messages: list[str]) -> Path:
        engine = Engine(Warehouse(small_sample_dir, sealed=False, load=False), catalog)
        engine.comments = False  # what is checked here is the cubes
        assert engine.use_store(store_dir, build=True, progress=messages.append) and engine.store
        engine.warehouse.close()
        return engine.store.path

    together: list[str] = []
    shared_path = built(tmp_path / "together", together)
    shared_cube_sql = composition.shared_cube_sql

    def failing(*args: Any) -> tuple[str, list[list[str]], list[str]]:
        _, sums, counts = shared_cube_sql(*args)
        return "select * from no_such_table", sums, counts

    monkeypatch.setattr(composition, "shared_cube_sql", failing)
    cube_table = store_module._cube_table

    def short_of_memory(con: duckdb.DuckDBPyConnection, metric: Any, *args: Any, **kwargs: Any) -> Any:
        if metric.name == "trust" and not kwargs.get("short_of_memory"):
            raise duckdb.OutOfMemoryException(
                "Out of Memory Error: could not allocate block\nPossible solutions"
            )
        return cube_table(con, metric, *args, **kwargs)

    monkeypatch.setattr(store_module, "_cube_table", short_of_memory)
    alone: list[str] = []
    alone_path = built(tmp_path / "alone", alone)
    retried = [m for m in alone if m.startswith("trust: ")]
    assert retried[:2] == [
        "trust: out of memory beside another statement (Out of Memory Error: could not allocate block)",
        "trust: out of memory alone too, so read in simpler steps (Out of Memory Error: could not allocate block)",
    ]
    assert re.fullmatch(r"trust: \d+ cubes, built alone \(\d+\.\ds\)", retried[2]), retried
    assert any("trust: built again later" in m for m in alone)
    read_together = [m for m in together if m.endswith("s)") and ", read together" in m]
    assert any("trust: " in m and "ease: " in m for m in read_together)
    assert not [m for m in alone if ", read together" in m]
    fell_back = [m for m in alone if "could not be read together, so each is read alone" in m]
    assert len(fell_back) == len(read_together) and "no_such_table" in fell_back[0]

    con = duckdb.connect()
    con.execute(f"attach '{shared_path}' as together (read_only)")
    con.execute(f"attach '{alone_path}' as alone (read_only)")
    stores = store_module.open_store(shared_path), store_module.open_store(alone_path)
    assert stores[0] is not None and stores[1] is not None and stores[0].cubes == stores[1].cubes
    tables = [
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where database_name = 'alone' and table_name like 'cube_%'"
        ).fetchall()
    ]
    assert len(tables) == len(catalog.metrics)
    for table in tables:
        one, other = (f"{db}.{table}" for db in ("together", "alone"))
        assert con.execute(f"select * from {one} except all select * from {other}").fetchall() == [], table
        assert con.execute(f"select * from {other} except all select * from {one}").fetchall() == [], table
        assert con.execute(f"describe {one}").fetchall() == con.execute(f"describe {other}").fetchall()
